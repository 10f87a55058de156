"""Opens and closes AMQP connections against a broker, as a busy neighbour
would: each connection opens a channel, declares a server-named exclusive
queue, publishes one message to it and closes.

    /usr/bin/python3 churn.py URL MAX SECONDS RATE

Stops after MAX connections or SECONDS, whichever comes first, paced at
RATE connections a second; prints how many it made and how many failed.
"""

import signal
import sys
import time

import pika


def main():
    url, limit, seconds, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    params = pika.URLParameters(url)
    params.socket_timeout = 10
    start = time.monotonic()
    counts = [0, 0]  # made, failed
    # The caller stops us with SIGTERM when its run is over; report anyway.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        churn(params, limit, seconds, rate, start, counts)
    finally:
        print("churn: %d connections opened and closed, %d failed, in %.0f s"
              % (counts[0], counts[1], time.monotonic() - start), flush=True)


def churn(params, limit, seconds, rate, start, counts):
    while sum(counts) < limit and time.monotonic() - start < seconds:
        try:
            conn = pika.BlockingConnection(params)
            ch = conn.channel()
            q = ch.queue_declare(queue="", exclusive=True).method.queue
            ch.basic_publish(exchange="", routing_key=q, body=b"churn")
            conn.close()
            counts[0] += 1
        except Exception as e:  # a refused or dropped connection is counted, not fatal
            counts[1] += 1
            print("churn: %s" % e, file=sys.stderr)
            time.sleep(0.1)
        ahead = sum(counts) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)


if __name__ == "__main__":
    main()
