"""The smallest WSGI app, served by ``bench/queue.py`` as the HTTP floor of the machine it runs on."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "12")])
    return [b'{"ok": true}']
