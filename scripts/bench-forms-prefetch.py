#!/usr/bin/env python3
"""Opens N contact forms, each in a fresh "browser" (its own cookie), and writes one line per
form: cookie value, CSRF token, notice version (tab-separated). Each line is one single-use
form for bench-forms.lua to send."""
import http.client
import re
import sys
import threading
import urllib.parse

base, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url = urllib.parse.urlsplit(base)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="notice_version" value="([^"]+)"')
COOKIE = re.compile(r'registre_form=([A-Za-z0-9_-]{43})')
lines = []
lock = threading.Lock()


def fetch(n):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    got = []
    for _ in range(n):
        conn.request("GET", "/f/contact?lang=fr")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = COOKIE.search(response.getheader("set-cookie") or "")
        token, version = TOKEN.search(html), VERSION.search(html)
        if response.status != 200 or not (cookie and token and version):
            raise SystemExit(f"unexpected form page: {response.status}")
        got.append(f"{cookie.group(1)}\t{token.group(1)}\t{version.group(1)}")
    with lock:
        lines.extend(got)


workers = 8
threads = [threading.Thread(target=fetch, args=(count // workers + (1 if i < count % workers else 0),)) for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(lines)} forms fetched")
