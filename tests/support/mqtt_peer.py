#!/usr/bin/env python3
"""An independent MQTT peer for thingwell's integration tests, built on paho-mqtt 1.6.

  mqtt_peer.py subscribe --port P --topic T [--topic T2 ...] --output FILE --ready-file FILE
  mqtt_peer.py publish   --port P --topic T --payload TEXT [--count N]

subscribe writes one line per received message to --output, flushed at once:
    topic <TAB> qos <TAB> retain (0/1) <TAB> payload as lowercase hex
and creates --ready-file once the broker has granted every subscription.
publish sends --count messages ("{i}" in the payload becomes the message index) and exits 0 only
when the broker acknowledged every one (QoS 1/2) or they were written (QoS 0).
"""

import argparse
import os
import signal
import ssl
import sys
import threading
import time

import paho.mqtt.client as mqtt


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["subscribe", "publish"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", choices=["3.1.1", "5"], default="3.1.1")
    parser.add_argument("--client-id", default="")
    parser.add_argument("--no-clean-start", action="store_true")
    parser.add_argument("--session-expiry", type=int, default=0, help="MQTT 5 only, seconds")
    parser.add_argument("--keepalive", type=int, default=30)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--cafile", help="enables TLS")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--no-hostname-check", action="store_true",
                        help="verify the certificate chain but not the host name")
    parser.add_argument("--topic", action="append", required=True)
    parser.add_argument("--qos", type=int, default=1, choices=[0, 1, 2])
    parser.add_argument("--output")
    parser.add_argument("--ready-file")
    parser.add_argument("--payload", default="")
    parser.add_argument("--payload-hex")
    parser.add_argument("--retain", action="store_true")
    parser.add_argument("--count", type=int, default=0,
                        help="publish: messages to send (default 1); subscribe: exit after this many")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before giving up")
    return parser.parse_args()


def make_client(args):
    version = mqtt.MQTTv5 if args.protocol == "5" else mqtt.MQTTv311
    if version == mqtt.MQTTv5:
        client = mqtt.Client(client_id=args.client_id, protocol=version)
    else:
        client = mqtt.Client(client_id=args.client_id, clean_session=not args.no_clean_start, protocol=version)
    if args.username is not None:
        client.username_pw_set(args.username, args.password)
    if args.cafile:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.cafile)
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
        if args.no_hostname_check:
            context.check_hostname = False
        client.tls_set_context(context)
        if args.no_hostname_check:
            client.tls_insecure_set(True)
    return client, version


def connect(client, version, args):
    if version == mqtt.MQTTv5:
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        properties = Properties(PacketTypes.CONNECT)
        if args.session_expiry:
            properties.SessionExpiryInterval = args.session_expiry
        client.connect(args.host, args.port, keepalive=args.keepalive,
                       clean_start=not args.no_clean_start, properties=properties)
    else:
        client.connect(args.host, args.port, keepalive=args.keepalive)


def refused(code):
    # MQTT 3.1.1 return codes are ints, MQTT 5 reason codes are objects; failure is >= 0x80 or 1..5.
    value = code if isinstance(code, int) else code.value
    return value != 0


def subscribe(args):
    if not args.output:
        sys.exit("subscribe needs --output")
    client, version = make_client(args)
    output = open(args.output, "a", encoding="utf-8")
    received = [0]
    failure = []
    done = threading.Event()

    def on_connect(client, userdata, flags, rc, properties=None):
        if refused(rc):
            failure.append("connection refused: %s" % rc)
            done.set()
            return
        client.subscribe([(topic, args.qos) for topic in args.topic])

    def on_subscribe(client, userdata, mid, granted, properties=None):
        codes = [g if isinstance(g, int) else g.value for g in granted]
        if any(code >= 0x80 for code in codes):
            failure.append("subscription refused: %s" % codes)
            done.set()
            return
        if args.ready_file:
            with open(args.ready_file, "w", encoding="utf-8") as ready:
                ready.write("subscribed %s\n" % codes)

    def on_message(client, userdata, message):
        output.write("%s\t%d\t%d\t%s\n" % (message.topic, message.qos, 1 if message.retain else 0,
                                           message.payload.hex()))
        output.flush()
        received[0] += 1
        if args.count and received[0] >= args.count:
            done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    connect(client, version, args)
    client.loop_start()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    finished = done.wait(args.timeout)
    client.disconnect()
    client.loop_stop()
    output.close()
    if failure:
        print(failure[0], flush=True)
        sys.exit(2)
    if args.count and received[0] < args.count:
        print("received %d of %d messages" % (received[0], args.count), flush=True)
        sys.exit(1)
    sys.exit(0 if finished or not args.count else 1)


def publish(args):
    client, version = make_client(args)
    connected = threading.Event()
    failure = []

    def on_connect(client, userdata, flags, rc, properties=None):
        if refused(rc):
            failure.append("connection refused: %s" % rc)
        connected.set()

    client.on_connect = on_connect
    connect(client, version, args)
    client.loop_start()
    deadline = time.monotonic() + args.timeout
    if not connected.wait(args.timeout) or failure:
        print(failure[0] if failure else "not connected within %.1f s" % args.timeout, flush=True)
        sys.exit(1)
    count = args.count or 1
    pending = []
    for index in range(count):
        if args.payload_hex is not None:
            payload = bytes.fromhex(args.payload_hex)
        else:
            payload = args.payload.replace("{i}", str(index)).encode("utf-8")
        pending.append(client.publish(args.topic[0], payload, qos=args.qos, retain=args.retain))
    for info in pending:
        info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        if not info.is_published():
            print("message %d not acknowledged within %.1f s" % (info.mid, args.timeout), flush=True)
            sys.exit(1)
    client.disconnect()
    client.loop_stop()
    print("published %d" % count, flush=True)


def main():
    args = parse_arguments()
    if args.mode == "subscribe":
        subscribe(args)
    else:
        publish(args)


if __name__ == "__main__":
    main()
