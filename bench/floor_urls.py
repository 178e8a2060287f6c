"""The bench's floor: the least a decision endpoint could do (see bench/README.md).

POST /bench/floor parses the same JSON body as a decision (strictly, as the decision API
does) and commits one single-row INSERT, under the same gunicorn, settings and slim
middleware as the decision API. Served only by bench/floor_wsgi.py, never by the console."""

import json

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from governance.api.parsers import json_loads_strict

TABLE = "bench_floor"  # created by bench/run.py


@csrf_exempt
def floor(request):
    body = json_loads_strict(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (request_id) VALUES (%s) RETURNING id",  # noqa: S608
            [body["request_id"]],
        )
        (row_id,) = cursor.fetchone()
    answer = json.dumps({"outcome": "floor", "id": row_id, "request_id": body["request_id"]})
    return HttpResponse(answer, status=201, content_type="application/json")


urlpatterns = [path("bench/floor", floor), path("healthz", lambda r: HttpResponse("ok"))]
