"""The RabbitMQ tutorials' scenarios with pika, each with assertions.

    /usr/bin/python3 tutorials.py URL SCENARIO [PREFIX]

Every name a scenario declares starts with PREFIX (random by default), so the
script also runs against a shared broker such as a real RabbitMQ. It prints
"ok SCENARIO" and exits 0, or prints what differed and exits 1. The
durable_* scenarios take a fixed PREFIX: durable_before sets up, the caller
restarts the broker, durable_after checks.
"""

import sys
import time
import uuid

import pika
from pika.exceptions import ChannelClosedByBroker, UnroutableError

WAIT = 30.0  # seconds to wait for something the broker should send


class Failed(Exception):
    pass


def check(cond, what, *args):
    if not cond:
        raise Failed(what % args if args else what)


def connect(url):
    params = pika.URLParameters(url)
    params.socket_timeout = 10
    params.blocked_connection_timeout = WAIT
    params.connection_attempts = 3
    params.retry_delay = 1
    return pika.BlockingConnection(params)


def pump_until(conns, cond, what):
    """Runs the connections' I/O until cond() holds, at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not cond():
        check(time.monotonic() < deadline, "timed out waiting for %s", what)
        for c in conns:
            c.process_data_events(time_limit=0.02)


def pump_for(conns, seconds):
    """Runs the connections' I/O for a while: for checks that nothing more arrives."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for c in conns:
            c.process_data_events(time_limit=0.02)


def message_count(conn, queue):
    ch = conn.channel()
    n = ch.queue_declare(queue=queue, passive=True).method.message_count
    ch.close()
    return n


def queue_exists(conn, queue):
    ch = conn.channel()
    try:
        ch.queue_declare(queue=queue, passive=True)
    except ChannelClosedByBroker as e:
        if e.reply_code == 405:  # an exclusive queue whose owner is still closing
            return True
        check(e.reply_code == 404, "passive declare of %s: %d %s, want 404", queue, e.reply_code, e.reply_text)
        return False
    ch.close()
    return True


def hello_world(url, p):
    """Tutorial 1: send one message to a named queue, receive it."""
    conn = connect(url)
    ch = conn.channel()
    q = p + "hello"
    ch.queue_declare(queue=q)
    ch.basic_publish(exchange="", routing_key=q, body=b"Hello World!")
    got = []
    ch.basic_consume(queue=q, auto_ack=True,
                     on_message_callback=lambda c, m, props, body: got.append((m, body)))
    pump_until([conn], lambda: got, "the message")
    pump_for([conn], 0.2)
    check(len(got) == 1, "got %d messages, want 1", len(got))
    m, body = got[0]
    check(body == b"Hello World!", "body %r", body)
    check(m.routing_key == q and m.exchange == "" and not m.redelivered,
          "delivery routing_key=%r exchange=%r redelivered=%r", m.routing_key, m.exchange, m.redelivered)
    check(message_count(conn, q) == 0, "queue not empty after an auto-ack consume")
    ch.queue_delete(queue=q)
    conn.close()


def work_queues(url, p):
    """Tutorial 2: a durable task queue, persistent tasks, prefetch_count=1
    and manual acks. A worker holding an unacked task gets no other; the
    other worker does the rest one at a time; a worker whose channel closes
    without acking gives its task back, marked redelivered."""
    q = p + "task_queue"
    n = 12
    pub = connect(url)
    pch = pub.channel()
    pch.queue_declare(queue=q, durable=True)
    pch.confirm_delivery()
    for i in range(n):
        pch.basic_publish(exchange="", routing_key=q, body=("task %d" % i).encode(),
                          properties=pika.BasicProperties(delivery_mode=2))

    holder, worker = connect(url), connect(url)
    hch, wch = holder.channel(), worker.channel()
    for ch in (hch, wch):
        ch.basic_qos(prefetch_count=1)
    held = []
    hch.basic_consume(queue=q, on_message_callback=lambda c, m, props, body: held.append((m, props, body)))
    pump_until([holder], lambda: held, "the holding worker's task")

    done, unacked = [], []
    wch.basic_consume(queue=q, on_message_callback=lambda c, m, props, body: unacked.append((m, body)))
    while len(done) < n - 1:
        pump_until([worker], lambda: unacked, "task %d of the second worker" % (len(done) + 1))
        pump_for([worker], 0.05)
        check(len(unacked) == 1, "prefetch_count=1: %d unacked deliveries at once", len(unacked))
        m, body = unacked.pop()
        check(held[0][2] != body and body not in done, "task %r delivered twice", body)
        done.append(body)
        wch.basic_ack(delivery_tag=m.delivery_tag)
    pump_for([holder, worker], 0.2)
    check(len(held) == 1, "the worker holding an unacked task got %d, want 1", len(held))
    check(not unacked, "more tasks than were published")
    m, props, body = held[0]
    check(props.delivery_mode == 2, "delivery_mode %r, want 2 (persistent)", props.delivery_mode)

    # The holding worker's channel closes without an ack: the task goes to
    # the other worker, redelivered.
    hch.close()
    pump_until([worker], lambda: unacked, "the task given back by the closed channel")
    m2, body2 = unacked.pop()
    check(body2 == body and m2.redelivered, "after the close got %r redelivered=%r, want %r redelivered",
          body2, m2.redelivered, body)
    wch.basic_ack(delivery_tag=m2.delivery_tag)
    check(sorted(done + [body2]) == sorted(("task %d" % i).encode() for i in range(n)), "tasks lost or doubled")
    check(message_count(pub, q) == 0, "queue not empty after every task was acked")
    pch.queue_delete(queue=q)
    for c in (pub, holder, worker):
        c.close()


def subscriber(url, exchange, keys):
    """A consumer on an exclusive server-named queue bound with keys."""
    conn = connect(url)
    ch = conn.channel()
    q = ch.queue_declare(queue="", exclusive=True).method.queue
    check(q.startswith("amq.gen-"), "server-named queue %r, want amq.gen-...", q)
    for k in keys:
        ch.queue_bind(exchange=exchange, queue=q, routing_key=k)
    got = []
    ch.basic_consume(queue=q, auto_ack=True,
                     on_message_callback=lambda c, m, props, body: got.append((m.routing_key, body.decode())))
    return conn, q, got


def publish_subscribe(url, p):
    """Tutorial 3: a fanout exchange, two subscribers with exclusive
    server-named queues; each sees every message; a subscriber's queue goes
    with its connection."""
    ex = p + "logs"
    conn = connect(url)
    ch = conn.channel()
    ch.exchange_declare(exchange=ex, exchange_type="fanout")
    subs = [subscriber(url, ex, [""]) for _ in range(2)]
    ch.confirm_delivery()
    for i in range(5):
        ch.basic_publish(exchange=ex, routing_key="any.key.%d" % i, body=("log %d" % i).encode())
    want = [("any.key.%d" % i, "log %d" % i) for i in range(5)]
    sconns = [s[0] for s in subs]
    pump_until(sconns, lambda: all(len(s[2]) >= 5 for s in subs), "every subscriber's 5 logs")
    pump_for(sconns, 0.2)
    for _, q, got in subs:
        check(got == want, "subscriber %s got %r, want %r", q, got, want)
    sconn, q, _ = subs[0]
    sconn.close()
    deadline = time.monotonic() + WAIT
    while queue_exists(conn, q):  # RabbitMQ deletes it just after the close
        check(time.monotonic() < deadline, "exclusive queue %s outlived its connection", q)
        time.sleep(0.05)
    ch.exchange_delete(exchange=ex)
    subs[1][0].close()
    conn.close()


def routing(url, p):
    """Tutorial 4: a direct exchange routes by severity."""
    ex = p + "direct_logs"
    conn = connect(url)
    ch = conn.channel()
    ch.exchange_declare(exchange=ex, exchange_type="direct")
    errors = subscriber(url, ex, ["error"])
    everything = subscriber(url, ex, ["info", "warning", "error"])
    ch.confirm_delivery()
    for sev in ("info", "debug", "warning", "error"):
        ch.basic_publish(exchange=ex, routing_key=sev, body=("a %s message" % sev).encode())
    conns = [errors[0], everything[0]]
    pump_until(conns, lambda: len(errors[2]) >= 1 and len(everything[2]) >= 3, "the routed messages")
    pump_for(conns, 0.2)
    check(errors[2] == [("error", "a error message")], "error queue got %r", errors[2])
    want = [("info", "a info message"), ("warning", "a warning message"), ("error", "a error message")]
    check(everything[2] == want, "info/warning/error queue got %r, want %r", everything[2], want)
    ch.exchange_delete(exchange=ex)
    for c in conns + [conn]:
        c.close()


def topics(url, p):
    """Tutorial 5: a topic exchange with * and # patterns."""
    ex = p + "topic_logs"
    conn = connect(url)
    ch = conn.channel()
    ch.exchange_declare(exchange=ex, exchange_type="topic")
    patterns = {"q1": ["*.orange.*"], "q2": ["*.*.rabbit", "lazy.#"], "all": ["#"], "kern": ["kern.*"]}
    queues = {}
    for name, keys in patterns.items():
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        for k in keys:
            ch.queue_bind(exchange=ex, queue=q, routing_key=k)
        queues[name] = q
    keys = ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox",
            "lazy.pink.rabbit", "quick.brown.fox", "orange", "quick.orange.male.rabbit",
            "lazy.orange.male.rabbit", "lazy", "kern.critical", "kern", "kern.a.b"]
    ch.confirm_delivery()  # every publish is routed before the gets below
    for k in keys:
        ch.basic_publish(exchange=ex, routing_key=k, body=k.encode())
    want = {
        "q1": ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"],
        # lazy.pink.rabbit matches both of q2's bindings and arrives once.
        "q2": ["quick.orange.rabbit", "lazy.orange.elephant", "lazy.brown.fox", "lazy.pink.rabbit",
               "lazy.orange.male.rabbit", "lazy"],
        "all": keys,
        "kern": ["kern.critical"],
    }
    for name, q in queues.items():
        got = []
        while True:
            m, props, body = ch.basic_get(queue=q, auto_ack=True)
            if m is None:
                break
            got.append(body.decode())
        check(got == want[name], "queue bound with %s got %r, want %r", patterns[name], got, want[name])
    ch.exchange_delete(exchange=ex)
    conn.close()


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def rpc(url, p):
    """Tutorial 6: RPC over a request queue; the client's exclusive callback
    queue in reply_to, answers matched by correlation_id."""
    rq = p + "rpc_queue"
    server = connect(url)
    sch = server.channel()
    sch.queue_declare(queue=rq)
    sch.basic_qos(prefetch_count=1)

    def on_request(c, m, props, body):
        n = int(body)
        c.basic_publish(exchange="", routing_key=props.reply_to,
                        properties=pika.BasicProperties(correlation_id=props.correlation_id),
                        body=str(fib(n)).encode())
        c.basic_ack(delivery_tag=m.delivery_tag)

    sch.basic_consume(queue=rq, on_message_callback=on_request)

    client = connect(url)
    cch = client.channel()
    callback = cch.queue_declare(queue="", exclusive=True).method.queue
    answers = {}

    def on_response(c, m, props, body):
        answers.setdefault(props.correlation_id, []).append(int(body))

    cch.basic_consume(queue=callback, on_message_callback=on_response, auto_ack=True)
    # A reply nobody asked for: the client must ignore it by correlation_id.
    cch.basic_publish(exchange="", routing_key=callback,
                      properties=pika.BasicProperties(correlation_id="not-ours"), body=b"-1")
    asked = {}
    for n in (0, 1, 10, 30, 7):
        corr = str(uuid.uuid4())
        asked[corr] = n
        cch.basic_publish(exchange="", routing_key=rq, body=str(n).encode(),
                          properties=pika.BasicProperties(reply_to=callback, correlation_id=corr))
    pump_until([server, client], lambda: all(c in answers for c in asked), "every RPC answer")
    pump_for([server, client], 0.2)
    for corr, n in asked.items():
        check(answers[corr] == [fib(n)], "fib(%d): answers %r under its correlation_id", n, answers[corr])
    check(answers.get("not-ours") == [-1], "the stray reply: %r", answers.get("not-ours"))
    check(len(answers) == len(asked) + 1, "answers under unknown correlation ids: %r", answers)
    check(message_count(server, rq) == 0, "request queue not empty")
    sch.queue_delete(queue=rq)
    server.close()
    client.close()


def rpc_direct_reply_to(url, p):
    """Tutorial 6 with direct reply-to: the client consumes the
    amq.rabbitmq.reply-to pseudo-queue (no-ack) instead of declaring a
    callback queue; replies come back on its channel, stored nowhere."""
    rq = p + "rpc_direct_queue"
    server = connect(url)
    sch = server.channel()
    sch.queue_declare(queue=rq)
    seen = []

    def on_request(c, m, props, body):
        seen.append(props.reply_to)
        c.basic_publish(exchange="", routing_key=props.reply_to,
                        properties=pika.BasicProperties(correlation_id=props.correlation_id),
                        body=str(fib(int(body))).encode())
        c.basic_ack(delivery_tag=m.delivery_tag)

    sch.basic_consume(queue=rq, on_message_callback=on_request)
    client = connect(url)
    cch = client.channel()
    answers = {}
    cch.basic_consume(queue="amq.rabbitmq.reply-to", auto_ack=True,
                      on_message_callback=lambda c, m, props, body: answers.setdefault(props.correlation_id, []).append(int(body)))
    asked = {}
    for n in (0, 1, 10, 30, 7):
        corr = str(uuid.uuid4())
        asked[corr] = n
        cch.basic_publish(exchange="", routing_key=rq, body=str(n).encode(),
                          properties=pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id=corr))
    pump_until([server, client], lambda: all(c in answers for c in asked), "every RPC answer over direct reply-to")
    pump_for([server, client], 0.2)
    for corr, n in asked.items():
        check(answers[corr] == [fib(n)], "fib(%d): answers %r under its correlation_id", n, answers[corr])
    check(len(answers) == len(asked), "answers under unknown correlation ids: %r", answers)
    check(all(r.startswith("amq.rabbitmq.reply-to.") for r in seen), "reply_to as the server saw it: %r", seen)
    # Publishing a request with the pseudo-queue as reply_to needs the consumer.
    other = client.channel()
    try:
        other.basic_publish(exchange="", routing_key=rq, body=b"1",
                            properties=pika.BasicProperties(reply_to="amq.rabbitmq.reply-to"))
        other.queue_declare(queue=rq, passive=True)
        check(False, "a request without a reply consumer was accepted")
    except pika.exceptions.ChannelClosedByBroker as e:
        check(e.reply_code == 406, "request without a reply consumer: %d %s, want 406", e.reply_code, e.reply_text)
    check(message_count(server, rq) == 0, "request queue not empty")
    sch.queue_delete(queue=rq)
    server.close()
    client.close()


def publisher_confirms(url, p):
    """Tutorial 7: publisher confirms. Every confirmed message is in the
    queue; a mandatory publish nobody can route is returned and raises."""
    q = p + "confirms"
    n = 200
    conn = connect(url)
    ch = conn.channel()
    ch.queue_declare(queue=q, durable=True)
    ch.confirm_delivery()
    for i in range(n):
        ch.basic_publish(exchange="", routing_key=q, body=("m%d" % i).encode(),
                         properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
    check(message_count(conn, q) == n, "%d messages after %d confirms", message_count(conn, q), n)
    try:
        ch.basic_publish(exchange="", routing_key=p + "nowhere", body=b"lost", mandatory=True)
    except UnroutableError as e:
        check(len(e.messages) == 1 and e.messages[0].body == b"lost", "returned %r", e.messages)
        rm = e.messages[0].method
        check(rm.reply_code == 312 and rm.reply_text == "NO_ROUTE",
              "basic.return %d %r, want 312 NO_ROUTE", rm.reply_code, rm.reply_text)
    else:
        raise Failed("a mandatory unroutable publish was confirmed without a return")
    # The channel is still usable, and order is kept.
    first = [ch.basic_get(queue=q, auto_ack=True)[2] for _ in range(3)]
    check(first == [b"m0", b"m1", b"m2"], "first messages %r", first)
    ch.queue_delete(queue=q)
    conn.close()


DURABLE_N = 100


def durable_before(url, p):
    """Sets up what must survive a restart: a durable exchange, a durable
    queue bound to it holding persistent messages (confirmed), a transient
    message beside them, and a non-durable queue."""
    conn = connect(url)
    ch = conn.channel()
    ch.exchange_declare(exchange=p + "orders", exchange_type="direct", durable=True)
    ch.queue_declare(queue=p + "kept", durable=True)
    ch.queue_bind(exchange=p + "orders", queue=p + "kept", routing_key="new")
    ch.queue_declare(queue=p + "transient", durable=False)
    ch.confirm_delivery()
    for i in range(DURABLE_N):
        ch.basic_publish(exchange=p + "orders", routing_key="new", body=("order %d" % i).encode(),
                         properties=pika.BasicProperties(delivery_mode=2, message_id=str(i),
                                                         headers={"n": i}))
    ch.basic_publish(exchange=p + "orders", routing_key="new", body=b"not persistent",
                     properties=pika.BasicProperties(delivery_mode=1))
    check(message_count(conn, p + "kept") == DURABLE_N + 1, "messages before the restart")
    conn.close()


def durable_after(url, p):
    """After the restart: the persistent messages, in order, with their
    properties; the transient one gone; the binding still routes; the
    non-durable queue gone."""
    conn = connect(url)
    ch = conn.channel()
    check(not queue_exists(conn, p + "transient"), "a non-durable queue survived the restart")
    n = message_count(conn, p + "kept")
    check(n == DURABLE_N, "%d messages after the restart, want %d", n, DURABLE_N)
    for i in range(DURABLE_N):
        m, props, body = ch.basic_get(queue=p + "kept", auto_ack=False)
        check(m is not None, "message %d missing", i)
        check(body == ("order %d" % i).encode() and props.message_id == str(i) and props.headers == {"n": i}
              and props.delivery_mode == 2, "message %d arrived as %r %r", i, body, props)
        ch.basic_ack(delivery_tag=m.delivery_tag)
    ch.confirm_delivery()
    ch.basic_publish(exchange=p + "orders", routing_key="new", body=b"after",
                     properties=pika.BasicProperties(delivery_mode=2))
    m, props, body = ch.basic_get(queue=p + "kept", auto_ack=True)
    check(body == b"after", "the durable binding routes %r after the restart", body)
    ch.queue_delete(queue=p + "kept")
    ch.exchange_delete(exchange=p + "orders")
    conn.close()


SCENARIOS = {f.__name__: f for f in (hello_world, work_queues, publish_subscribe, routing, topics, rpc,
                                     rpc_direct_reply_to, publisher_confirms, durable_before, durable_after)}


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in SCENARIOS:
        sys.exit("usage: tutorials.py URL {%s} [PREFIX]" % ",".join(SCENARIOS))
    url, name = sys.argv[1], sys.argv[2]
    prefix = sys.argv[3] if len(sys.argv) == 4 else "tut-%s-" % uuid.uuid4().hex[:8]
    try:
        SCENARIOS[name](url, prefix)
    except Failed as e:
        print("FAIL %s: %s" % (name, e))
        sys.exit(1)
    print("ok %s" % name)


if __name__ == "__main__":
    main()
