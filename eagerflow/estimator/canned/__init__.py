"""Canned estimators and heads."""
from .head import BinaryClassHead, MultiClassHead, RegressionHead
from .models import (DCNClassifier, DeepFMClassifier, DNNClassifier,
                     DNNLinearCombinedClassifier, DNNLinearCombinedRegressor, DNNRegressor,
                     LinearClassifier, LinearRegressor, get_optimizer)

__all__ = ["BinaryClassHead", "MultiClassHead", "RegressionHead", "DCNClassifier",
           "DeepFMClassifier", "DNNClassifier", "DNNLinearCombinedClassifier",
           "DNNLinearCombinedRegressor", "DNNRegressor", "LinearClassifier", "LinearRegressor",
           "get_optimizer"]
