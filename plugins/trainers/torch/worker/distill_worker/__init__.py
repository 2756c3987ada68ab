"""The distill trainer worker: trains a T5 student on label and rationale tasks.

It knows nothing of TypeScript. It speaks the JSON-lines protocol described in
``docs/trainer-protocol.md`` over stdin/stdout, or runs alone on a request file
(``python main.py --request request.json``), which is how it runs on a GPU
machine and under ``torchrun``.
"""

WORKER_VERSION = "1.0.0"
