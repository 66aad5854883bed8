#!/usr/bin/env python3
"""gcs_double.py -- a test double of Google Cloud Storage for Siali's e2e tests.

No GCS emulator installs from the registries, so this stands in for the parts the "gcs"
connector uses, and checks what the real service checks (issue 5 item 6):

  POST /token                      OAuth 2 JWT-bearer grant: the RS256 assertion is verified
                                   against the service account's PUBLIC key, iss/aud/exp/iat/scope
                                   checked; answers a random bearer token valid for an hour.
  GET    /storage/v1/b/B/o         listing: prefix, delimiter, maxResults, pageToken (opaque),
                                   answers items[{name,size,updated,etag}], prefixes,
                                   nextPageToken.
  GET    /storage/v1/b/B/o/NAME?alt=media     the bytes (NAME percent-encoded, '/' as %2F)
  GET    /storage/v1/b/B/o/NAME   metadata
  POST   /upload/storage/v1/b/B/o?uploadType=media&name=NAME   simple upload
  DELETE /storage/v1/b/B/o/NAME
  GET    /B/NAME?X-Goog-Algorithm=GOOG4-RSA-SHA256&...         V4 signed URL: the canonical
                                   request is recomputed, the signature checked against the
                                   public key of the credential's account, and the expiry.

Every JSON API call needs "Authorization: Bearer <token issued here, unexpired>" (else 401).
Objects live in memory; any bucket name exists.

Usage: gcs_double.py --port N [--host 127.0.0.1] [--account EMAIL=PUBLIC_KEY.pem ...]
Without --account the built-in test service account (TEST_EMAIL, TEST_PUBLIC_KEY below; its
private key is in tests/e2e/test_gcs_connector.c) is the one known account.
Python 3 stdlib + python3-cryptography (Debian).
"""
import argparse
import base64
import binascii
import calendar
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TEST_EMAIL = "siali-test@siali-test.iam.gserviceaccount.com"
TEST_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwScigKDhpxtw3FdH5lOk
YP8w13cMhSJhbiSyUDLGZJ5YYNpWe3TcH1SRBh11FnK/1xO5QTxC6ZQ4WrwCHUSH
89Mk0XNlAPFhFK2PeBVLxXmaYPnUTZasauVkKofVSI2fN8936VmdcBwugWl80vCj
A/Wkmn4lQx6RWEZ/lCAsfkzdcAXw1tO4yyCyAXbzCCgpAj/w78EeLM7cMHTIC+Mf
zB6R0jHbKkxliFF7erR0Oi6W2JTnUeduzR4muNtbDM08MyKE0ZCP+zXtKIXaF9cv
CEEkmueS6UMwMmzPRnT9NSoJ08dU48MLV+sxVg6UNoGav7l6U4M4KNsAYzJoDv0s
rwIDAQAB
-----END PUBLIC KEY-----
"""
SCOPES_OK = ("https://www.googleapis.com/auth/devstorage.read_write",
             "https://www.googleapis.com/auth/devstorage.full_control",
             "https://www.googleapis.com/auth/devstorage.read_only",
             "https://www.googleapis.com/auth/cloud-platform")
TOKEN_TTL = 3600
MAX_SIGNED_TTL = 604800

lock = threading.Lock()
accounts = {}       # email -> public key
tokens = {}         # token -> (email, expiry, read_only)
buckets = {}        # bucket -> {name: (bytes, updated, etag, content_type, generation)}
generation = [1]


def b64url_decode(s):
    s = s.encode() if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def rfc3986(s, safe=""):
    return urllib.parse.quote(s, safe="-_.~" + safe)


def verify_rs256(pub, msg, sig):
    try:
        pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcs-double/1"

    def log_message(self, fmt, *args):
        pass

    # ---- plumbing

    def reply(self, status, body=b"", ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, message, reason="invalid"):
        self.reply(status, {"error": {"code": status, "message": message,
                                      "errors": [{"reason": reason, "message": message}]}})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def split(self):
        raw_path, _, raw_query = self.path.partition("?")
        return raw_path, raw_query, urllib.parse.parse_qs(raw_query, keep_blank_values=True)

    def bearer(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return None
        tok = h[len("Bearer "):].strip()
        with lock:
            t = tokens.get(tok)
        if t is None or t[1] < time.time():
            return None
        return t

    # ---- routes

    def do_POST(self):
        raw_path, raw_query, q = self.split()
        if raw_path == "/token":
            return self.token()
        if raw_path.startswith("/upload/storage/v1/b/"):
            data = self.body()
            if self.bearer() is None:
                return self.error(401, "Invalid Credentials", "authError")
            parts = raw_path[len("/upload/storage/v1/b/"):].split("/")
            if len(parts) != 2 or parts[1] != "o":
                return self.error(404, "Not Found", "notFound")
            if q.get("uploadType", [""])[0] != "media" or not q.get("name", [""])[0]:
                return self.error(400, "uploadType=media and name are required", "required")
            bucket = urllib.parse.unquote(parts[0])
            name = q["name"][0]
            with lock:
                generation[0] += 1
                etag = base64.b64encode(hashlib.md5(data).digest()).decode()
                meta = (data, time.time(), etag,
                        self.headers.get("Content-Type", "application/octet-stream"),
                        generation[0])
                buckets.setdefault(bucket, {})[name] = meta
            return self.reply(200, self.meta(bucket, name, meta))
        self.body()
        return self.error(404, "Not Found", "notFound")

    def do_GET(self):
        raw_path, raw_query, q = self.split()
        if raw_path.startswith("/storage/v1/b/"):
            if self.bearer() is None:
                return self.error(401, "Invalid Credentials", "authError")
            parts = raw_path[len("/storage/v1/b/"):].split("/")
            bucket = urllib.parse.unquote(parts[0])
            if len(parts) == 2 and parts[1] == "o":
                return self.listing(bucket, q)
            if len(parts) == 3 and parts[1] == "o":
                name = urllib.parse.unquote(parts[2])
                with lock:
                    meta = buckets.get(bucket, {}).get(name)
                if meta is None:
                    return self.error(404, "No such object: %s/%s" % (bucket, name), "notFound")
                if q.get("alt", [""])[0] == "media":
                    return self.reply(200, meta[0], meta[3])
                return self.reply(200, self.meta(bucket, name, meta))
            return self.error(404, "Not Found", "notFound")
        if "X-Goog-Signature" in q or "X-Goog-Algorithm" in q:
            return self.signed_get(raw_path, raw_query, q)
        return self.error(404, "Not Found", "notFound")

    def do_DELETE(self):
        raw_path, raw_query, q = self.split()
        self.body()
        if not raw_path.startswith("/storage/v1/b/"):
            return self.error(404, "Not Found", "notFound")
        if self.bearer() is None:
            return self.error(401, "Invalid Credentials", "authError")
        parts = raw_path[len("/storage/v1/b/"):].split("/")
        if len(parts) != 3 or parts[1] != "o":
            return self.error(404, "Not Found", "notFound")
        bucket, name = urllib.parse.unquote(parts[0]), urllib.parse.unquote(parts[2])
        with lock:
            if buckets.get(bucket, {}).pop(name, None) is None:
                return self.error(404, "No such object: %s/%s" % (bucket, name), "notFound")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---- OAuth

    def token(self):
        form = urllib.parse.parse_qs(self.body().decode("utf-8", "replace"))

        def bad(desc):
            return self.reply(400, {"error": "invalid_grant", "error_description": desc})

        if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.reply(400, {"error": "unsupported_grant_type"})
        jwt = form.get("assertion", [""])[0]
        parts = jwt.split(".")
        if len(parts) != 3:
            return bad("Invalid JWT.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return bad("Invalid JWT.")
        if header.get("alg") != "RS256":
            return bad("Invalid JWT: alg must be RS256.")
        pub = accounts.get(claims.get("iss"))
        if pub is None:
            return bad("Invalid JWT: unknown issuer.")
        if not verify_rs256(pub, (parts[0] + "." + parts[1]).encode(), sig):
            return bad("Invalid JWT Signature.")
        if claims.get("aud") != self.server.token_url:
            return bad("Invalid JWT: aud must be %s." % self.server.token_url)
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            return bad("Invalid JWT: iat and exp are required.")
        if exp < now or iat > now + 300 or exp - iat > 3600:
            return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                       "reasonable timeframe.")
        scopes = str(claims.get("scope", "")).split()
        if not any(s in SCOPES_OK for s in scopes):
            return bad("Invalid JWT: no storage scope.")
        tok = "ya29.double-" + secrets.token_urlsafe(32)
        with lock:
            tokens[tok] = (claims["iss"], now + TOKEN_TTL, scopes)
        return self.reply(200, {"access_token": tok, "expires_in": TOKEN_TTL,
                                "token_type": "Bearer"})

    # ---- JSON API

    @staticmethod
    def meta(bucket, name, m):
        return {"kind": "storage#object", "bucket": bucket, "name": name,
                "size": str(len(m[0])), "contentType": m[3], "etag": m[2],
                "generation": str(m[4]),
                "updated": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(m[1])) +
                ".%03dZ" % int((m[1] % 1) * 1000)}

    def listing(self, bucket, q):
        prefix = q.get("prefix", [""])[0]
        delim = q.get("delimiter", [""])[0]
        try:
            maxr = int(q.get("maxResults", ["1000"])[0])
        except ValueError:
            return self.error(400, "Invalid maxResults", "invalid")
        maxr = max(1, min(maxr, 1000))
        after_kind, after = None, None
        tok = q.get("pageToken", [""])[0]
        if tok:
            try:
                after_kind, after = json.loads(b64url_decode(tok))
            except (ValueError, binascii.Error, TypeError):
                return self.error(400, "Invalid pageToken", "invalid")
        with lock:
            objs = buckets.get(bucket, {})
            names = sorted((n for n in objs if n.startswith(prefix)),
                           key=lambda n: n.encode())
            items, prefixes, last, more = [], [], None, False
            for n in names:
                if after is not None:
                    if n.encode() <= after.encode():
                        continue
                    if after_kind == "p" and n.startswith(after):
                        continue
                rest = n[len(prefix):]
                if delim and delim in rest:
                    p = prefix + rest[:rest.index(delim) + len(delim)]
                    if prefixes and prefixes[-1] == p:
                        continue
                    if len(items) + len(prefixes) >= maxr:
                        more = True
                        break
                    prefixes.append(p)
                    last = ("p", p)
                else:
                    if len(items) + len(prefixes) >= maxr:
                        more = True
                        break
                    items.append(self.meta(bucket, n, objs[n]))
                    last = ("k", n)
        out = {"kind": "storage#objects"}
        if items:
            out["items"] = items
        if prefixes:
            out["prefixes"] = prefixes
        if more:
            out["nextPageToken"] = base64.urlsafe_b64encode(
                json.dumps(list(last)).encode()).decode().rstrip("=")
        return self.reply(200, out)

    # ---- V4 signed URLs

    def signed_get(self, raw_path, raw_query, q):
        def denied(why):
            return self.reply(403, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>"
                              "SignatureDoesNotMatch</Code><Message>%s</Message></Error>" % why,
                              "application/xml")

        one = {}
        for k, v in q.items():
            if len(v) != 1:
                return denied("Repeated parameter.")
            one[k] = v[0]
        for k in ("X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date", "X-Goog-Expires",
                  "X-Goog-SignedHeaders", "X-Goog-Signature"):
            if k not in one:
                return denied("Missing %s." % k)
        if one["X-Goog-Algorithm"] != "GOOG4-RSA-SHA256":
            return denied("Unsupported algorithm.")
        cred = one["X-Goog-Credential"].split("/")
        if len(cred) != 5 or cred[2:] != ["auto", "storage", "goog4_request"]:
            return denied("Malformed credential.")
        pub = accounts.get(cred[0])
        if pub is None:
            return denied("Unknown account.")
        date = one["X-Goog-Date"]
        try:
            t0 = calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ"))
            ttl = int(one["X-Goog-Expires"])
        except ValueError:
            return denied("Malformed date or expiry.")
        if date[:8] != cred[1] or ttl < 1 or ttl > MAX_SIGNED_TTL:
            return denied("Malformed date or expiry.")
        now = time.time()
        if now < t0 - 300 or now > t0 + ttl:
            return denied("Request has expired.")
        signed = one["X-Goog-SignedHeaders"].split(";")
        if "host" not in signed:
            return denied("host must be signed.")
        canon_headers = ""
        for h in signed:
            v = self.headers.get(h)
            if v is None:
                return denied("Signed header %s missing." % h)
            canon_headers += "%s:%s\n" % (h, " ".join(v.split()))
        path = rfc3986(urllib.parse.unquote(raw_path), "/")
        pairs = sorted((rfc3986(k), rfc3986(v)) for k, v in one.items()
                       if k != "X-Goog-Signature")
        cq = "&".join("%s=%s" % p for p in pairs)
        creq = "\n".join(["GET", path, cq, canon_headers, ";".join(signed),
                          "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["GOOG4-RSA-SHA256", date, "/".join(cred[1:]),
                         hashlib.sha256(creq.encode()).hexdigest()])
        try:
            sig = bytes.fromhex(one["X-Goog-Signature"])
        except ValueError:
            return denied("Malformed signature.")
        if not verify_rs256(pub, sts.encode(), sig):
            return denied("The request signature we calculated does not match the signature "
                          "you provided.")
        segs = raw_path.lstrip("/").split("/", 1)
        if len(segs) != 2:
            return self.reply(404, "Not Found", "text/plain")
        bucket, name = urllib.parse.unquote(segs[0]), urllib.parse.unquote(segs[1])
        with lock:
            meta = buckets.get(bucket, {}).get(name)
        if meta is None:
            return self.reply(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        return self.reply(200, meta[0], meta[3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--account", action="append", default=[],
                    help="EMAIL=PUBLIC_KEY.pem (repeatable); default: the built-in test account")
    a = ap.parse_args()
    if a.account:
        for spec in a.account:
            email, _, path = spec.partition("=")
            with open(path, "rb") as f:
                accounts[email] = serialization.load_pem_public_key(f.read())
    else:
        accounts[TEST_EMAIL] = serialization.load_pem_public_key(TEST_PUBLIC_KEY.encode())
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.token_url = "http://%s:%d/token" % (a.host, a.port)
    srv.serve_forever()


if __name__ == "__main__":
    main()
