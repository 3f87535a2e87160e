"""The hot loops of training, each as a NumPy twin beside a numba kernel.

Each module holds one family of operations.  For every operation ``op`` there is
``op_numpy`` (plain NumPy, the readable reference), ``op_numba`` (a compiled
loop computing the same numbers) and ``op`` itself, a :class:`tinygan.backend.Kernel`
that calls whichever the active backend selects.  Matrix products are not here:
they stay on NumPy's BLAS, which is already as fast as this machine allows.
"""

from tinygan.kernels.activations import (leaky_relu_backward, leaky_relu_forward, sigmoid_backward,
                                         sigmoid_forward, tanh_backward, tanh_forward)
from tinygan.kernels.batchnorm import (batchnorm_eval_backward, batchnorm_eval_forward,
                                       batchnorm_train_backward, batchnorm_train_forward,
                                       running_average)
from tinygan.kernels.loss import bce_with_logits, logit_stats
from tinygan.kernels.optim import (ArrayGroup, adam_update, adam_update_all, bias_grad,
                                   ema_update_all, sgd_update, sgd_update_all)

__all__ = [
    "leaky_relu_forward", "leaky_relu_backward", "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "batchnorm_train_forward", "batchnorm_train_backward", "batchnorm_eval_forward",
    "batchnorm_eval_backward", "running_average",
    "bce_with_logits", "logit_stats",
    "adam_update", "sgd_update", "adam_update_all", "sgd_update_all",
    "ArrayGroup", "bias_grad", "ema_update_all",
]
