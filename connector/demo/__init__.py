"""The demo story: simulated prospects and a sales team acting on the sandbox CRMs through the real webhooks."""
