"""Development tools: a local anvil node, bulk writes to it, the demo scenario, GS1 codes for
generated data, the contract compiler and the generator of a production network's Besu
configuration.

The demo consortium itself (:func:`ledger_client.devnet.deploy_devnet`) stays at the top level:
it is public API, and the gateway and the CLI name its members.
"""
