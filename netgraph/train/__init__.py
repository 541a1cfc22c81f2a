"""Training: NetTrain, the "$Trainer" and everything behind them."""
