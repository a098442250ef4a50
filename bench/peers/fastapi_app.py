"""The FastAPI peer of bench/http.sh: the smallest app that answers like
CommandCenter's GET /health. Run under uvicorn with two workers, as the
original Python design did:

    /usr/bin/python3 -m uvicorn --app-dir bench/peers fastapi_app:app \
        --host 127.0.0.1 --port 8471 --workers 2 --log-level warning
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}
