"""Job speed: how fast a job progresses on a placement.

Two models behind one interface (:class:`~mlfleet.infra.scheduling.speed.model.JobSpeed`):
profiled applications, from the Pollux artifact's measured step times and statistical
efficiency (:mod:`.profile`, :mod:`.profiled`), and trace jobs with a duration, slowed
down when spread over more nodes than they need (:mod:`.trace`).
"""
