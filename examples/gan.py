"""A small GAN: NetGANOperator trained with an alternating TrainingUpdateSchedule.

Shows: NetGANOperator([generator, discriminator]) with its "Sample"/"Latent" inputs and
"LossReal"/"LossFake"/"GeneratedFake" outputs; NetTrain on the operator (the Jensen-Shannon
losses, chosen because the discriminator ends in a LogisticSigmoid; the generator is trained
through the discriminator's sign-flipped gradient); TrainingUpdateSchedule alternating one
discriminator step and one generator step; NetExtract of the trained generator; a plot of
generated against real samples, saved as gan.png.

The real samples lie on a tilted ellipse around (2, -1). The generator maps a 2-d normal
latent through a small tanh net.

Run: python examples/gan.py            (--fast: a few rounds, as `make test` runs it)
"""
import os
import sys

import numpy as np

from netgraph import (
    LinearLayer,
    LogisticSigmoid,
    NetChain,
    NetExtract,
    NetGANOperator,
    NetTrain,
    Tanh,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1" or "--fast" in sys.argv
N, ROUNDS = (256, 2) if FAST else (2048, 60)
rng = np.random.default_rng(0)
MIX = np.array([[0.6, 0.0], [0.35, 0.2]])   # the real samples' linear map of a normal


def real_samples(n: int) -> np.ndarray:
    return rng.normal(size=(n, 2)) @ MIX.T + np.array([2.0, -1.0])


generator = NetChain([LinearLayer(16), Tanh, LinearLayer(2)], Input=2)
discriminator = NetChain([LinearLayer(32), Tanh, LinearLayer(1), LogisticSigmoid])
gan = NetGANOperator([generator, discriminator])
print(gan)

result = NetTrain(gan, {"Sample": real_samples(N), "Latent": rng.normal(size=(N, 2))},
                  ["TrainedNet", "RoundLossList"],
                  BatchSize=64, MaxTrainingRounds=ROUNDS,
                  TrainingUpdateSchedule=["Discriminator", "Generator"],
                  Method=("ADAM", {"LearningRate": 0.003, "Beta1": 0.5}),
                  TrainingProgressReporting=None)
trained, losses = result
fake = NetExtract(trained, "Generator")(rng.normal(size=(2000, 2)))
real = real_samples(2000)
print(f"real samples:      mean {np.round(real.mean(0), 2)}, std {np.round(real.std(0), 2)}")
print(f"generated samples: mean {np.round(fake.mean(0), 2)}, std {np.round(fake.std(0), 2)}")
print(f"final round losses: {losses[-1]}")

import matplotlib  # noqa: E402

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(real[:500, 0], real[:500, 1], s=6, alpha=0.5, label="real")
ax.scatter(fake[:500, 0], fake[:500, 1], s=6, alpha=0.5, label="generated")
ax.set_title(f"NetGANOperator after {ROUNDS} rounds")
ax.legend()
fig.tight_layout()
fig.savefig("gan.png", dpi=100)
print("saved gan.png")
