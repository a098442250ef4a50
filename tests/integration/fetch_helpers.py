"""Loopback servers for the outbound-fetch tests (test_fetch.py, test_embeddings.py).

  make_ca(dir)          a test CA and two server certificates made with the openssl CLI:
                        "good" for 127.0.0.1/localhost, "wrong" for another name only.
  Server(handler, tls)  a threaded HTTP(S) server on 127.0.0.1 running `handler(req)`
                        for every request and recording what arrived (.requests).
"""

import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d):
    """Writes ca.pem, good.pem/good.key (SAN 127.0.0.1, localhost) and
    wrong.pem/wrong.key (SAN other.example) under d; returns d."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=CommandCenter test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, san in (("good", "IP:127.0.0.1,DNS:localhost"), ("wrong", "DNS:other.example")):
        (d / (name + ".ext")).write_text("subjectAltName=%s\n" % san)
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + name, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".pem", "-days", "2",
                 "-extfile", name + ".ext", cwd=d)
    return d


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.at = time.monotonic()


class Reply:
    """What a handler answers: status, headers (list of pairs), body bytes.
    chunked=True sends the body with chunked encoding and no Content-Length;
    length overrides the Content-Length sent."""

    def __init__(self, status=200, body=b"", headers=None, chunked=False, length=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = headers or []
        self.chunked = chunked
        self.length = length


class Server:
    def __init__(self, handler, certfile=None, keyfile=None):
        self.requests = []
        self.stop_event = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path, self.headers, body)
                outer.requests.append(req)
                rep = handler(req, outer)
                if rep is None:  # hang until the test ends
                    outer.stop_event.wait(60)
                    return
                self.send_response(rep.status)
                for k, v in rep.headers:
                    self.send_header(k, v)
                if rep.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif rep.status != 304:
                    self.send_header("Content-Length",
                                     str(rep.length if rep.length is not None
                                         else len(rep.body)))
                self.end_headers()
                try:
                    if rep.chunked:
                        for i in range(0, len(rep.body), 4096):
                            part = rep.body[i:i + 4096]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                    elif self.command != "HEAD" and rep.status != 304:
                        self.wfile.write(rep.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if certfile else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/", host="127.0.0.1"):
        return "%s://%s:%d%s" % (self.scheme, host, self.port, path)

    def close(self):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def unused_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
