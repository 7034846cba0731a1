"""The entitlements domain: plain Python, time passed in, nothing read from a store or a broker.

- `facts`: the fact vocabulary rules may read, the registry's facts (`WorkerFacts`, migration episodes,
  households, consent) kept per worker in a `WorkerProfile`, facts a worker declares, and the
  `FactsSnapshot` a rule is evaluated against (a fact we do not hold is absent, never defaulted).
- `expressions`: CEL conditions compiled and type-checked (cel-expr-python), evaluated on a shared activation.
- `rules`: conditions, and evaluation to passed / failed / unknown and eligible / not eligible / undetermined.
- `schemes`: the scheme aggregate with its cited details and its draft -> published -> retired rule versions.
- `catalogue`: the catalogue document (YAML/JSON data) checked and turned into schemes.
- `determinations`: a worker's determinations, change detection, and the events they raise.
- `applications`: the application state machine and benefit deliveries, idempotent by external reference.
- `refusals`: refusals of workers who are eligible (the grievance service's question).
- `funnel`: eligible / applied / approved / delivered counts with small cells suppressed.
- `reevaluation`: the job that re-evaluates workers after a rule version is published.
- `worker_record`: everything this service holds about one worker (facts, grants, determinations,
  declarations, applied event ids) and how it is assessed against the published rules.
- `access`: eligibility and application records as the shared access policy sees them.
"""
