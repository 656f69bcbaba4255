import pytest

from .helpers import Rest, make_server


@pytest.fixture
def serve():
    """``serve(configs, **kw) -> (server, Rest)``; every server is stopped after the test."""
    started = []

    def start(configs, **kw):
        server = make_server(configs, **kw).start(wait_for_models_s=10)
        client = Rest(server.rest_port)
        started.append((server, client))
        return server, client

    yield start
    for server, client in started:
        client.close()
        server.stop()
