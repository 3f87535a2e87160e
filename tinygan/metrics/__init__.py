"""Measuring a GAN: mode coverage, classifier-based scores, Frechet distance.

Pictures show a generator improving; numbers say *how much* and catch what
pictures hide (a missing digit, a mode that is never visited).

* ``mixtures``   -- 2-D mixtures: modes covered, % high-quality, reverse KL (VEEGAN/PacGAN)
* ``softmax``    -- softmax cross-entropy, the loss the evaluation classifier is trained with
* ``classifier`` -- the evaluation classifier (an MLP of tinygan layers) and its shipped weights
* ``scores``     -- class histogram, modes present, KL to uniform, classifier score, confidence
* ``frechet``    -- Frechet distance between feature Gaussians, and the real-vs-real floor
* ``evaluate``   -- all of the above for a generator's samples, as one dict
"""

from tinygan.metrics.classifier import Classifier, build_classifier, load_classifier
from tinygan.metrics.evaluate import evaluate_images, evaluate_mixture, pixel_stats
from tinygan.metrics.frechet import frechet_distance, frechet_from_stats, real_floor
from tinygan.metrics.mixtures import kl_to_uniform, mode_coverage
from tinygan.metrics.scores import class_histogram, class_scores, classifier_score
from tinygan.metrics.softmax import softmax, softmax_cross_entropy

__all__ = ["Classifier", "build_classifier", "load_classifier", "evaluate_images",
           "evaluate_mixture", "pixel_stats", "frechet_distance", "frechet_from_stats",
           "real_floor", "kl_to_uniform", "mode_coverage", "class_histogram", "class_scores",
           "classifier_score", "softmax", "softmax_cross_entropy"]
