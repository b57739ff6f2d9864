"""Case studies and a fallacy of the infrastructure chapter: Meta's CPU+GPU recommendation
stack (:mod:`.recsys_hybrid`), "all ML infrastructure should be GPU-based"
(:mod:`.gpu_fallacy`) and Tesla Dojo (:mod:`.dojo`)."""
