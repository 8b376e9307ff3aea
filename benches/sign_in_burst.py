#!/usr/bin/env python3
"""A burst of parallel sign-in attempts against a running Debrief, with the
server's resident memory sampled while it lasts. Used by sign_in.sh.

    sign_in_burst.py BASE_URL PID COUNT [--forms-only]

Each attempt is one client: it fetches /login for its CSRF token, then posts
a wrong password for an unknown email, from an address of its own (sent as
X-Forwarded-For; the server trusts the loopback proxy in this bench). All
COUNT clients fetch their forms first, then post together. --forms-only
fetches only the forms, all together: the reference run, with no password
to check.
"""
import http.cookiejar, re, sys, threading, time, urllib.error, urllib.parse, urllib.request
from collections import Counter

base, pid, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
forms_only = "--forms-only" in sys.argv

def rss_mib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

results, latencies, lock = Counter(), [], threading.Lock()
ready, go = threading.Barrier(count + 1), threading.Event()

def attempt(n):
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    def form():
        html = opener.open(urllib.request.Request(base + "/login", headers={"X-Forwarded-For": address}), timeout=60).read().decode()
        return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)
    token = None
    if not forms_only:
        try:
            token = form()
        except Exception:
            pass
    ready.wait()
    go.wait()
    started = time.monotonic()
    if forms_only:
        try:
            status = "form" if form() else "no form"
        except Exception as err:
            status = type(err).__name__
    elif token is None:
        status = "no form"
    else:
        body = urllib.parse.urlencode({"csrf_token": token, "email": f"nobody-{n}@example.com", "password": "wrong password"}).encode()
        request = urllib.request.Request(base + "/login", data=body, headers={"X-Forwarded-For": address})
        try:
            status = opener.open(request, timeout=60).status
        except urllib.error.HTTPError as err:
            status = err.code
        except Exception as err:
            status = type(err).__name__
    with lock:
        results[status] += 1
        latencies.append(time.monotonic() - started)

threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
for thread in threads:
    thread.start()
ready.wait()
before = rss_mib()
peak, done = before, threading.Event()
def sample():
    global peak
    while not done.is_set():
        peak = max(peak, rss_mib())
        time.sleep(0.02)
sampler = threading.Thread(target=sample)
sampler.start()
started = time.monotonic()
go.set()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
done.set()
sampler.join()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
what = "forms only (reference)" if forms_only else "sign-in attempts"
print(f"{count} parallel {what}: answered in {elapsed:.2f} s, slowest {latencies[-1]:.2f} s, p50 {p(0.5):.2f} s")
print(f"  RSS {before:.0f} MiB before, {peak:.0f} MiB at peak: growth {peak - before:.0f} MiB")
print("  answers: " + ", ".join(f"{status}: {n}" for status, n in sorted(results.items(), key=str)))
