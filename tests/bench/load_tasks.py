#!/usr/bin/python3
"""load_tasks.py URL TOKEN PROJECT N BATCH — imports N tasks (about 1 KB of data each), each with
one annotation, into PROJECT through POST /api/projects/{id}/import, BATCH tasks per request.
Prints progress on stderr and the total seconds on stdout. Standard library only."""
import json
import random
import sys
import time
import urllib.request

WORDS = ("label studio siali annotate region task project model predict image text audio video "
         "bounding box sentiment positive negative neutral entity person place thing").split()


def task(i, rnd):
    words = []
    size = 0
    while size < 1000:
        w = rnd.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    label = "Positive" if i % 2 else "Negative"
    return {
        "data": {"text": " ".join(words), "n": i},
        "annotations": [{"result": [{"id": "r%d" % i, "from_name": "sentiment", "to_name": "text",
                                     "type": "choices", "value": {"choices": [label]}}],
                         "lead_time": 1.5}],
    }


def main():
    url, token, project, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    rnd = random.Random(1)
    start = time.time()
    done = 0
    while done < n:
        k = min(batch, n - done)
        body = json.dumps([task(done + j, rnd) for j in range(k)]).encode()
        req = urllib.request.Request("%s/api/projects/%d/import" % (url, project), data=body, method="POST",
                                     headers={"Authorization": "Token " + token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            got = json.load(resp)
        if got.get("task_count") != k:
            sys.exit("import answered %r" % got)
        done += k
        el = time.time() - start
        print("  %d/%d tasks, %.0f s, %.0f tasks/s" % (done, n, el, done / el), file=sys.stderr)
    print("%.1f" % (time.time() - start))


if __name__ == "__main__":
    main()
