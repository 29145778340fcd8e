"""矛盾纠纷排查化解: disputes, parties, people's mediation, agreements, 司法确认, referrals (docs/disputes.md)."""
