/* azure.h — the Azure Blob connector, kind "azure" (the API's type "azure_blob"); the contract is
 * storage.h's, this header only adds what is Azure's.
 *
 * Config: {"container" (required), "prefix" (optional: a plain string prefix of blob names, the
 * connector's scope; "data/" for a folder), "account_name", "account_key" (base64, as the portal
 * shows it), "endpoint" (optional: default https://<account_name>.blob.core.windows.net; for
 * azurite the path-style http://127.0.0.1:10000/devstoreaccount1), "presign_ttl" (minutes,
 * default 15, used when presign is given ttl <= 0)}. Other Label Studio fields (regex_filter,
 * use_blob_urls, presign, ...) are the sync's and ignored here.
 *
 * Keys are whole blob names, the configured prefix included (as for Redis). A key must start
 * with the prefix and pass storage_key_ok() (no "."/".." or empty components, no backslash:
 * curl would squash a ".." segment and Azure turns '\' into '/', either of which could leave the
 * scope); at most 1024 bytes. Listed blobs whose names fail those rules are skipped, so every
 * key listed can be read. Non-recursive listings skip the "folders" (BlobPrefix entries).
 *
 * open checks the config only; it makes no request (presigning needs none, and a wrong key is
 * reported as STORAGE_AUTH by the first call, which storage_open could not pass on). Validate a
 * storage by listing one object. Every request goes through outbound_fetch (SSRF guard): an
 * endpoint the guard refuses gives STORAGE_REFUSED with the guard's reason. Requests are signed
 * with SharedKey; presign gives a read-only service SAS URL (sp=r) valid from 5 minutes ago
 * (clock skew) for ttl seconds (at most 7 days). Errors: 401/403 STORAGE_AUTH, 404 (BlobNotFound,
 * ContainerNotFound) STORAGE_NOT_FOUND, 400 STORAGE_REFUSED, anything else STORAGE_FAILED; the
 * message is ours and may quote Azure's error code (x-ms-error-code).
 *
 * The cursor is Azure's NextMarker. Pages hold at most min(max, 5000) entries as Azure counts
 * them (folders skipped in a non-recursive listing count too, so a page may carry fewer objects
 * and still have a cursor). Keys come in Azure's order (lexicographic by name), each once.
 * get streams up to 64 GiB within outbound_timeout; its bytes reach on_data only from a
 * successful Get Blob answer, never from an error body. A failed connection or a 429/5xx answer is
 * retried twice, unless bytes already reached on_data. */
#ifndef SIALI_STORAGE_AZURE_H
#define SIALI_STORAGE_AZURE_H

#include "storage.h"

extern const struct storage_ops storage_azure_ops;

/* One List Blobs answer (xml, n bytes, from the server: untrusted) read into the blobs under
 * prefix, and *marker (malloc'd) when the listing goes on. A storage_result. What the connector
 * does with the answer; exposed for the fuzz target. */
int storage_azure_parse_list(const char *prefix, const char *xml, size_t n,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **marker,
    char *err, size_t errsz);

#endif
