"""Autoscaling a serving fleet: Kubernetes' HPA and VPA, predictive scaling, a diurnal load.

``hpa`` and ``vpa`` are the Kubernetes algorithms as documented; ``predictive`` plans
replicas from yesterday's load; ``simulate`` runs each policy on the serving
simulator (:mod:`mlfleet.serving.sim`) and reports replicas, SLO violations and cost.
"""
