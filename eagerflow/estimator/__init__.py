"""``tf.estimator``: Estimator, EstimatorSpec, RunConfig, ModeKeys and hooks, run eagerly."""
from ..summary import SummarySaverHook
from ..train.basic_session_run_hooks import (CheckpointSaverHook, CheckpointSaverListener,
                                             FeedFnHook, FinalOpsHook, GlobalStepWaiterHook,
                                             LoggingTensorHook, ProfilerHook,
                                             NanLossDuringTrainingError, NanTensorHook,
                                             SecondOrStepTimer, StepCounterHook, StopAtStepHook)
from ..train.session_run_hook import (SessionRunArgs, SessionRunContext, SessionRunHook,
                                      SessionRunValues)
from .canned import (BinaryClassHead, DCNClassifier, DeepFMClassifier, DNNClassifier,
                     DNNLinearCombinedClassifier, DNNLinearCombinedRegressor, DNNRegressor,
                     LinearClassifier, LinearRegressor, MultiClassHead, RegressionHead)
from .estimator import Estimator, WarmStartSettings
from .export import (ClassificationOutput, PredictOutput, RegressionOutput,
                     ServingInputReceiver, build_parsing_serving_input_receiver_fn,
                     build_raw_serving_input_receiver_fn)
from .model_fn import EstimatorSpec, ModeKeys
from .progress import ProgressBarHook
from .training import (EvalSpec, Exporter, FinalExporter, LatestExporter, TrainSpec,
                       train_and_evaluate)
from .run_config import RunConfig

__all__ = ["EvalSpec", "Exporter", "FinalExporter", "LatestExporter", "TrainSpec",
           "train_and_evaluate", "ClassificationOutput", "PredictOutput", "RegressionOutput",
           "ServingInputReceiver", "build_parsing_serving_input_receiver_fn",
           "build_raw_serving_input_receiver_fn", "DCNClassifier", "DeepFMClassifier", "DNNClassifier",
           "DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor", "DNNRegressor",
           "LinearClassifier", "LinearRegressor", "ProgressBarHook", "Estimator", "WarmStartSettings", "EstimatorSpec", "ModeKeys", "RunConfig",
           "SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues",
           "CheckpointSaverHook", "CheckpointSaverListener", "FinalOpsHook",
           "LoggingTensorHook", "NanLossDuringTrainingError", "NanTensorHook",
           "SecondOrStepTimer", "StepCounterHook", "StopAtStepHook", "FeedFnHook",
           "GlobalStepWaiterHook", "ProfilerHook", "SummarySaverHook", "BinaryClassHead",
           "MultiClassHead", "RegressionHead"]
