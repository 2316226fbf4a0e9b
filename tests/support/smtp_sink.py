#!/usr/bin/python3
"""A real SMTP server for kizuna's tests (aiosmtpd; Debian's python3-aiosmtpd).

Listens on 127.0.0.1, keeps every message it accepts as DIR/<n>.eml (the
bytes as received, CRLF, dot-unstuffed) beside DIR/<n>.json (the envelope:
{"mail_from", "rcpt_tos", "peer", "tls"}), n counting from 1; the .json is
written first and the .eml renamed into place, so a reader that sees the .eml
sees a whole message and its envelope.

    /usr/bin/python3 smtp_sink.py --dir DIR [--port 0] [--refuse ADDR]...
        [--fail-first N] [--data-delay SECONDS]
        [--tls-cert PEM --tls-key PEM [--smtps] [--require-starttls]]
        [--auth USER:PASSWORD]

--port 0 (the default) takes a free port. Once it accepts connections it
prints "listening 127.0.0.1 PORT" on stdout and writes PORT to DIR/port.
--refuse ADDR       RCPT TO:<ADDR> answered 550 (repeatable).
--fail-first N      the first N messages answered 451 at the end of DATA (not kept).
--data-delay S      a message is kept, then the answer to its DATA waits S
                    seconds (a client killed meanwhile has delivered it
                    without knowing: the duplicate case).
--reply-delay S     the answer to DATA waits S seconds, and the message is
                    kept only if the client is still connected then: a server
                    takes responsibility for a message with its 250 (RFC 5321
                    6.1), so a client killed meanwhile has delivered nothing
                    and must send it again (the crash-mid-delivery case).
--tls-cert/--tls-key  offer STARTTLS (or, with --smtps, TLS from the first byte).
--auth USER:PASSWORD  require AUTH PLAIN/LOGIN with these credentials (over TLS).
Stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    sys.stderr.write("smtp_sink: python3-aiosmtpd is missing (apt-get install python3-aiosmtpd; "
                     "run with Debian's /usr/bin/python3)\n")
    sys.exit(3)


class Sink:
    def __init__(self, args):
        self.dir = args.dir
        self.refuse = {a.lower() for a in args.refuse}
        self.fail_left = args.fail_first
        self.delay = args.data_delay
        self.reply_delay = args.reply_delay
        self.count = 0
        self.data = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        # DIR/data-<k> marks that the k-th message's data has arrived (a test
        # waits on it to act while that message awaits its answer).
        self.data += 1
        open(os.path.join(self.dir, "data-%d" % self.data), "w").close()
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 Temporary failure, try again later"
        if self.reply_delay > 0:
            await asyncio.sleep(self.reply_delay)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 Client gone before the reply; nothing kept"
        self.count += 1
        n = self.count
        base = os.path.join(self.dir, str(n))
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "peer": list(session.peer) if session.peer else None,
                       "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None},
                      f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued as kizuna-sink-%d" % n


def main():
    p = argparse.ArgumentParser(description="SMTP sink for kizuna's tests")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse", action="append", default=[])
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--data-delay", type=float, default=0.0)
    p.add_argument("--reply-delay", type=float, default=0.0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--smtps", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                  and data.password.decode() == password)
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535

    sink = Sink(args)

    def factory():
        kwargs = dict(hostname="kizuna-sink", decode_data=False, data_size_limit=64 << 20)
        if tls is not None and not args.smtps:
            kwargs.update(tls_context=tls, require_starttls=args.require_starttls)
        if authenticator is not None:
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=not args.smtps)
        return SMTP(sink, **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=args.port, ssl=tls if args.smtps else None))
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
    print("listening 127.0.0.1 %d" % port, flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    loop.run_until_complete(stop.wait())
    server.close()
    loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()
