"""ASGI entry point for uvicorn workers: settings come from the environment of each process."""

from shiyu.app import create_app

app = create_app(serving=True)
