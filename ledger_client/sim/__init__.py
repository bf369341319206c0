"""The anomaly simulator and its evaluation: plan multi-member traffic with injected anomalies
(:func:`ledger_client.sim.planner.plan`), mine it on anvil (:func:`ledger_client.sim.run.simulate`)
and score the audit's detectors against the ground truth (:mod:`ledger_client.sim.evaluate`)."""
