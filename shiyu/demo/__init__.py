"""The demo city builder (`shiyu demo`): geography, name pools, and the database writer."""
