"""Category classification: the offline model (train, evaluate, predict), its versions in the deployment,
the suggestions made at intake, automatic dispatch of confident ones, and learning from human decisions."""
