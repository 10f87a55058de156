#!/usr/bin/python3
# Time from PUT /api/policies to every one of N queues (3 messages each)
# being cut to max-length 1, seen by passive declares over AMQP (one sweep
# of N declares is the resolution). Usage: policy_apply.py AMQP_PORT HTTP_PORT N
import sys, time, json, base64, urllib.request, pika
amqp_port, http_port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
prefix = "polbench-%d." % int(time.time())
conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", amqp_port, credentials=pika.PlainCredentials("guest", "guest")))
ch = conn.channel()
names = [prefix + str(i) for i in range(n)]
for q in names:
    ch.queue_declare(q)
    for _ in range(3):
        ch.basic_publish("", q, b"x")
def all_at(k):
    return all(ch.queue_declare(q, passive=True).method.message_count == k for q in names)
while not all_at(3): pass
def api(method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http_port, path), method=method, data=json.dumps(body).encode() if body else None)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    req.add_header("Content-Type", "application/json")
    return urllib.request.urlopen(req).status
pname = prefix + "cap"
t0 = time.time()
api("PUT", "/api/policies/%2F/" + pname, {"pattern": "^" + prefix.replace(".", "\\."), "apply-to": "queues", "definition": {"max-length": 1}, "priority": 100})
t1 = time.time()
while not all_at(1): pass
t2 = time.time()
api("DELETE", "/api/policies/%2F/" + pname)
print("queues=%d put_returned_ms=%.1f all_applied_ms=%.1f" % (n, (t1 - t0) * 1000, (t2 - t0) * 1000))
for q in names:
    ch.queue_delete(q)
conn.close()
