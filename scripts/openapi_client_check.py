"""Drives the service through a client generated from its own OpenAPI document (see
scripts/openapi-client.sh): every answer must parse into the generated, typed classes, and the
figures must match cap41's published optimum (OR-Library, 1040444.375)."""

import json
import sys
import time

from stockade_client import AuthenticatedClient
from stockade_client.api.jobs import get_job, job_result, submit_job
from stockade_client.api.models import solve_sync, validate
from stockade_client.models import (
    Evaluation,
    JobRequest,
    JobView,
    Model,
    SolveRequest,
    SolveResult,
    ValidateResponse,
)

CAP41_OPTIMUM = 1040444.375  # ../shared/benchmarks/DEV-OPTIMA.md


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def main(url: str, token: str, model_path: str) -> None:
    client = AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)
    model = json.load(open(model_path))
    typed_model = Model.from_dict(model)
    assert typed_model.name == "cap41", typed_model.name

    solved = solve_sync.sync(client=client, body=SolveRequest.from_dict({"model": model}))
    assert isinstance(solved, SolveResult), solved
    assert solved.status.value == "optimal", solved.status
    assert close(solved.objective, CAP41_OPTIMUM), solved.objective
    open_sites = [s.id for s in solved.sites if s.modules > 0]
    assert open_sites, "an optimal cap41 plan opens warehouses"

    job = submit_job.sync(
        client=client,
        body=JobRequest.from_dict(
            {"kind": "evaluate", "model": model, "plan": solved.plan.to_dict()}
        ),
    )
    assert isinstance(job, JobView), job
    deadline = time.monotonic() + 120
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, "the evaluate job did not finish in 120 s"
        time.sleep(0.2)
        job = get_job.sync(job.id, client=client)
        assert isinstance(job, JobView), job
    assert job.status == "succeeded", job.error
    evaluation = job_result.sync(job.id, client=client)
    assert isinstance(evaluation, Evaluation), type(evaluation)
    assert close(evaluation.expected_cost, CAP41_OPTIMUM), evaluation.expected_cost

    bad = dict(model, sites=[dict(model["sites"][0], module_capacity=-1.0)] + model["sites"][1:])
    checked = validate.sync(client=client, body=Model.from_dict(bad))
    assert isinstance(checked, ValidateResponse), checked
    assert not checked.valid
    assert any(p.path == "sites[0].module_capacity" for p in checked.problems), checked.problems
    print(
        f"generated client: cap41 solved to {solved.objective} ({len(open_sites)} sites open), "
        f"evaluated as a job to {evaluation.expected_cost}, a bad model's problem located"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
