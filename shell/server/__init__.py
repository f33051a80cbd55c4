"""`gate serve`: the world models and the harness over HTTP and WebSocket (FastAPI on uvicorn).

One process with an embedded SQLite store (.gate/server.db: API keys, jobs). app.create_app builds the
application; the routers live one per resource (play, harness, jobs, models, docs). Nothing here is
imported by the listing commands: fastapi and torch load only when a server or a gate m11 run starts.
"""
