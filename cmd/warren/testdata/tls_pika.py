# pika over TLS: python3 tls_pika.py HOST PORT CA CERT KEY MODE
# MODE "external" logs in with the client certificate (EXTERNAL),
# "plain" as guest/guest. Publishes one message to a fresh queue and gets
# it back; prints "ok".
import ssl
import sys

import pika

host, port, ca, cert, key, mode = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
creds = pika.credentials.ExternalCredentials() if mode == "external" else pika.PlainCredentials("guest", "guest")
params = pika.ConnectionParameters(host=host, port=int(port), credentials=creds,
                                   ssl_options=pika.SSLOptions(ctx, "localhost"))
conn = pika.BlockingConnection(params)
ch = conn.channel()
q = ch.queue_declare(queue="", exclusive=True).method.queue
ch.basic_publish(exchange="", routing_key=q, body=b"pika over tls")
for _ in range(1000):
    method, _props, body = ch.basic_get(q, auto_ack=True)
    if method is not None:
        break
    conn.sleep(0.01)
assert body == b"pika over tls", body
conn.close()
print("ok")
