"""Models of the world-model gates: m1's patch autoencoder and m2's next-frame predictor."""
