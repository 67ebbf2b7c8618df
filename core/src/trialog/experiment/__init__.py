"""``trialog.Experiment`` and its parts.

- ``experiment``: the class (trixi's lifecycle on a crash-safe run folder)
- ``opening``: a config and options to a locked run folder with run.json
- ``state``: what a checkpoint holds and how it is restored (``set_state(state, context)``)
- ``resume``: resuming a run folder exactly (results cover, loggers' ``on_resume``)
- ``stages``: the stage bodies (begin, epoch end, finish, fail, close)
- ``lifecycle``: ``drive_lifecycle``, the one stage order of ``run``, ``run_test`` and a framework's loop

Subclass it and override the stages::

    class MyExperiment(trialog.Experiment):
        def setup(self):                 # build model, data, optimizer
            self.w = numpy.zeros(3)
        def train(self, epoch):
            self.add_result(loss, "loss", tag="train")
        def validate(self, epoch):
            self.add_result(acc, "acc", tag="val")

    MyExperiment(config, n_epochs=10, seed=1, base_dir="runs").run()
    MyExperiment(n_epochs=10, base_dir="runs", resume="last").run()   # after a crash: same results

What a checkpoint holds: the epoch and the results log position, every RNG (through the
``get_rng_state`` plugin hook: python and numpy by the core's ``python`` plugin, torch by
trialog-torch's), the experiment's "simple" public attributes (numbers, strings, bools, None, numpy
arrays and scalars, lists/tuples/dicts of those — trixi's "simple" save type; here ``self.w``), what
:meth:`Experiment.get_state` returns (override it with :meth:`Experiment.set_state` for anything else),
and the parts registered with :meth:`Experiment.add_state_part`. An attribute set after ``__init__``
that none of these stores is named in one warning at the first checkpoint.

Lifecycle of :meth:`Experiment.run`: :meth:`~Experiment.begin_run` (``on_run_start``) → ``setup()`` →
``prepare()`` → :meth:`~Experiment.restore_resumed` (resume: restore the latest checkpoint; the run
continues at :attr:`~Experiment.start_epoch`) → per epoch :meth:`~Experiment.begin_epoch`
(``on_epoch_start``) → ``train(epoch)`` → ``validate(epoch)`` → :meth:`~Experiment.end_epoch`
(``on_epoch_end``, checkpoint, ``on_checkpoint_saved``) → ``end()`` → :meth:`~Experiment.finish_run`
(``on_run_end``). An exception calls :meth:`~Experiment.fail_run` (``process_err(e)``,
``on_run_error``) and is re-raised. That order lives in :func:`trialog.experiment.lifecycle.drive_lifecycle`, which
:meth:`~Experiment.run`, :meth:`~Experiment.run_test` and a framework that owns its training loop (a
trainer, Lightning) call with their own stages. Lifecycle hooks reach both the
loggers (``self.clog.lifecycle``) and the ``trialog.plugins`` modules, each plugin called on its own
(:class:`trialog.hooks.plugins.PluginHooks`: a failing plugin is warned about once, counted, and disabled
after 5 consecutive failures).

The class is the public surface; the work is done next to it: :mod:`trialog.experiment.opening` (config,
resume resolution, the run folder opened and wired), :mod:`trialog.experiment.state` (what a checkpoint
holds and how it is restored), :mod:`trialog.experiment.resume` (resuming from the latest checkpoint) and
:mod:`trialog.experiment.lifecycle` (the stage order).
"""
