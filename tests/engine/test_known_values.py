"""One iteration of a network small enough to do on paper.

The 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation Example"
(2015), whose every intermediate value is published to nine decimals: inputs 0.05, 0.10;
targets 0.01, 0.99; w1..w8 = 0.15 .. 0.55; biases 0.35 (hidden) and 0.60 (output); squared
error ½Σ(t - o)², which for one sample and two outputs is exactly mse's mean over outputs;
learning rate 0.5. His w1 joins input 1 to hidden 1, w3 input 1 to hidden 2, so
W[0] = [[w1, w3], [w2, w4]] and W[1] = [[w5, w7], [w6, w8]].
"""
import pytest

from engine import Config, Session

MAZUR = {
    "data": {"name": "custom", "X": [[0.05, 0.10]], "y": [[0.01, 0.99]], "test_fraction": 0.0},
    "network": {"layers": [2, 2, 2], "activation": "sigmoid", "output_activation": "sigmoid",
                "init": "explicit",
                "W": [[[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]],
                "b": [[0.35, 0.35], [0.60, 0.60]]},
    "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "batch_size": 1,
}
PUBLISHED = 5e-10   # most published values are rounded to nine decimals


def published(*values: str) -> list:
    """The published numbers, each within half a unit of its last printed decimal."""
    return [pytest.approx(float(v), abs=0.5 * 10.0 ** -len(v.split(".")[1])) for v in values]


@pytest.fixture
def session() -> Session:
    return Session(Config.from_dict(MAZUR))


def test_forward_gives_the_published_activations(session):
    f = session.forward()
    assert f.z[1][0] == pytest.approx([0.3775, 0.3925], abs=1e-15)   # net_h1 = .15·.05 + .2·.1 + .35
    assert f.a[1][0] == pytest.approx([0.593269992, 0.596884378], abs=PUBLISHED)
    assert f.a[2][0] == pytest.approx([0.75136507, 0.772928465], abs=PUBLISHED)
    assert f.z[0] is None and f.a[0][0].tolist() == [0.05, 0.10]


def test_loss_and_its_derivative(session):
    session.forward()
    loss = session.loss()
    assert loss.loss == pytest.approx(0.298371109, abs=PUBLISHED)
    assert loss.sample_losses.tolist() == [loss.loss]
    assert loss.regularization_loss == 0.0
    # ∂E/∂out_o1 = out_o1 - target_o1 = 0.74136507 (mse: 2(ŷ - y)/(N K), N = 1, K = 2)
    assert loss.d_loss_d_output[0] == pytest.approx([0.74136507, 0.772928465 - 0.99], abs=PUBLISHED)


def test_backward_gives_the_published_gradients(session):
    session.forward()
    session.loss()
    back = session.backward()
    assert back.delta[2][0, 0] == pytest.approx(0.138498562, abs=PUBLISHED)   # δ_o1
    assert back.grad_W[1][0, 0] == pytest.approx(0.082167041, abs=PUBLISHED)  # ∂E/∂w5
    # ∂E/∂w1 = (δ_o1·w5 + δ_o2·w7) · out_h1(1 - out_h1) · i1 = 0.000438568
    assert back.grad_W[0][0, 0] == pytest.approx(0.000438568, abs=PUBLISHED)
    assert back.grad_W_reg is None
    assert back.delta[0] is None


def test_update_gives_the_published_weights(session):
    for phase in ("forward", "loss", "backward"):
        session.run_phase(phase)
    update = session.update()
    w1, w3, w2, w4 = update.W[0].ravel()
    w5, w7, w6, w8 = update.W[1].ravel()
    assert [w1, w2, w3, w4] == published("0.149780716", "0.19956143", "0.24975114", "0.29950229")
    assert [w5, w6, w7, w8] == published("0.35891648", "0.408666186", "0.511301270", "0.561370121")
    assert update.step_W[1][0, 0] == pytest.approx(-0.5 * 0.082167041, abs=PUBLISHED)
    assert session.iteration == 1 and session.phase is None


def test_the_error_falls_as_published_after_ten_thousand_iterations(session):
    # Mazur: "after repeating this process 10,000 times ... the error plummets to 0.0000351085"
    # (his run leaves the biases fixed; ours trains them too, so the error ends lower still)
    session.train(iterations=10_000)
    assert session.metrics().train_loss < 0.0000351085
