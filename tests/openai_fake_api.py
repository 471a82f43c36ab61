"""A loopback fake of OpenAI's files, fine-tuning and batches endpoints, for the real SDK.

Built from the API reference (developers.openai.com/api/reference, and the openai SDK 3.57 types): no genuine
recordings of these endpoints exist in this repository or in ../shared/wire-recordings, so the
shapes here are the reference's, not captured traffic. Each ``GET`` of a job or a batch moves it
one status further, so a poll loop sees every state.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

JOB_STEPS = ["validating_files", "queued", "running", "running", "succeeded"]
BATCH_STEPS = ["validating", "in_progress", "finalizing", "completed"]


class FakeOpenAI:
    """State of the fake: files, jobs, batches, and every request body it received."""

    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.answer = answer
        """Builds the chat completion for one batch line's body (raise ``KeyError`` for an error line)."""
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.pause_jobs = False

    def _id(self, prefix: str, table: dict[str, Any]) -> str:
        return f"{prefix}-{len(table) + 1}"

    async def create_file(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        data = upload.file.read() if hasattr(upload, "file") else bytes(str(upload), "utf-8")
        file_id = self._id("file", self.files)
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": getattr(upload, "filename", "upload"),
            "purpose": str(form["purpose"]),
            "status": "processed",
            "_data": data,
        }
        self.requests.append(("POST", "/files", {"purpose": str(form["purpose"])}))
        return web.json_response({k: v for k, v in self.files[file_id].items() if k != "_data"})

    async def file_content(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        if file is None:
            return _error(404, "No such file")
        return web.Response(body=file["_data"], content_type="application/octet-stream")

    async def create_job(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("POST", "/fine_tuning/jobs", body))
        if "hyperparameters" in body:
            return _error(400, "hyperparameters is deprecated; use method")
        if body.get("training_file") not in self.files:
            return _error(400, f"invalid training_file: {body.get('training_file')}", param="training_file")
        job_id = self._id("ftjob", self.jobs)
        method = body.get("method") or {"type": "supervised"}
        hyper = (method.get(method["type"]) or {}).get("hyperparameters") or {}
        self.jobs[job_id] = {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": int(time.time()),
            "model": body["model"],
            "status": "validating_files",
            "fine_tuned_model": None,
            "finished_at": None,
            "error": None,
            "organization_id": "org-fake",
            "result_files": [],
            "seed": body.get("seed", 42),
            "trained_tokens": None,
            "training_file": body["training_file"],
            "validation_file": body.get("validation_file"),
            "hyperparameters": hyper,
            "method": method,
            "suffix": body.get("suffix"),
            "_step": 0,
            "_events": [],
        }
        self._event(job_id, "Validating training file")
        return web.json_response(_public(self.jobs[job_id]))

    def _event(self, job_id: str, message: str, data: dict[str, Any] | None = None) -> None:
        events = self.jobs[job_id]["_events"]
        events.append(
            {
                "id": f"ftevent-{len(events) + 1}",
                "object": "fine_tuning.job.event",
                "created_at": 1_700_000_000 + len(events),
                "level": "info",
                "message": message,
                "type": "metrics" if data else "message",
                "data": data,
            }
        )

    async def get_job(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return _error(404, "No such job")
        if job["status"] not in ("succeeded", "cancelled", "failed") and not self.pause_jobs:
            job["_step"] += 1
            job["status"] = JOB_STEPS[min(job["_step"], len(JOB_STEPS) - 1)]
            if job["status"] == "running":
                step = len([e for e in job["_events"] if e["type"] == "metrics"]) + 1
                self._event(
                    job["id"],
                    f"Step {step}/2",
                    {"step": step, "train_loss": 2.0 / step, "valid_loss": 2.5 / step, "total_steps": 2},
                )
            if job["status"] == "succeeded":
                job["fine_tuned_model"] = f"ft:{job['model']}:fake:{job.get('suffix') or ''}:abc123"
                job["trained_tokens"] = 1234
                job["finished_at"] = int(time.time())
                self._event(job["id"], "The job has successfully completed")
        elif self.pause_jobs and job["status"] == "running":
            job["status"] = "paused"
        return web.json_response(_public(job))

    async def job_events(self, request: web.Request) -> web.Response:
        job = self.jobs[request.match_info["id"]]
        newest_first = list(reversed(job["_events"]))
        return web.json_response({"object": "list", "data": newest_first, "has_more": False})

    async def job_checkpoints(self, request: web.Request) -> web.Response:
        job = self.jobs[request.match_info["id"]]
        data = []
        if job["status"] == "succeeded":
            data.append(
                {
                    "id": "ftckpt-1",
                    "object": "fine_tuning.job.checkpoint",
                    "created_at": 1_700_000_100,
                    "fine_tuned_model_checkpoint": f"{job['fine_tuned_model']}:ckpt-step-2",
                    "fine_tuning_job_id": job["id"],
                    "step_number": 2,
                    "metrics": {"step": 2, "train_loss": 1.0, "valid_loss": 1.25},
                }
            )
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def cancel_job(self, request: web.Request) -> web.Response:
        job = self.jobs[request.match_info["id"]]
        job["status"] = "cancelled"
        return web.json_response(_public(job))

    async def create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("POST", "/batches", body))
        if body.get("input_file_id") not in self.files:
            return _error(400, "invalid input_file_id")
        batch_id = self._id("batch", self.batches)
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "status": "validating",
            "created_at": int(time.time()),
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "_step": 0,
        }
        return web.json_response(_public(self.batches[batch_id]))

    async def get_batch(self, request: web.Request) -> web.Response:
        batch = self.batches[request.match_info["id"]]
        if batch["status"] != "completed":
            batch["_step"] += 1
            batch["status"] = BATCH_STEPS[min(batch["_step"], len(BATCH_STEPS) - 1)]
            if batch["status"] == "completed":
                self._finish(batch)
        return web.json_response(_public(batch))

    def _finish(self, batch: dict[str, Any]) -> None:
        outputs, errors = [], []
        for raw in self.files[batch["input_file_id"]]["_data"].decode().splitlines():
            line = json.loads(raw)
            try:
                body = self.answer(line["body"])
            except KeyError as exc:
                errors.append(
                    {
                        "id": "batch_req_x",
                        "custom_id": line["custom_id"],
                        "response": {
                            "status_code": 404,
                            "request_id": "req_x",
                            "body": {
                                "error": {
                                    "message": str(exc),
                                    "type": "invalid_request_error",
                                    "code": "model_not_found",
                                }
                            },
                        },
                        "error": None,
                    }
                )
                continue
            outputs.append(
                {
                    "id": "batch_req_y",
                    "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "request_id": "req_y", "body": body},
                    "error": None,
                }
            )
        for rows, key in ((outputs, "output_file_id"), (errors, "error_file_id")):
            if rows:
                file_id = self._id("file", self.files)
                data = "".join(json.dumps(r) + "\n" for r in rows).encode()
                self.files[file_id] = {"id": file_id, "purpose": "batch_output", "_data": data}
                batch[key] = file_id
        batch["request_counts"] = {
            "total": len(outputs) + len(errors),
            "completed": len(outputs),
            "failed": len(errors),
        }


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _error(status: int, message: str, param: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}},
        status=status,
    )


@contextmanager
def serve(fake: FakeOpenAI) -> Iterator[str]:
    """Run the fake on 127.0.0.1 in a background thread; yield its ``base_url``."""
    app = web.Application()
    app.add_routes(
        [
            web.post("/v1/files", fake.create_file),
            web.get("/v1/files/{id}/content", fake.file_content),
            web.post("/v1/fine_tuning/jobs", fake.create_job),
            web.get("/v1/fine_tuning/jobs/{id}", fake.get_job),
            web.get("/v1/fine_tuning/jobs/{id}/events", fake.job_events),
            web.get("/v1/fine_tuning/jobs/{id}/checkpoints", fake.job_checkpoints),
            web.post("/v1/fine_tuning/jobs/{id}/cancel", fake.cancel_job),
            web.post("/v1/batches", fake.create_batch),
            web.get("/v1/batches/{id}", fake.get_batch),
        ]
    )
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port[0]}/v1"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
