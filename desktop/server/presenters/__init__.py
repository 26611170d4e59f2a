"""Domain objects of the core as the API's models (`desktop.api`): the core keeps records and
answers questions, these modules word the answers in the shapes of the wire.

* `running`: launched models (descriptions, the model list, instances, launch progress).
* `registry`: registrations, engines, the cache of model files.
* `library`: hardware, hub search, repository and catalog files with their fit, installed models.
* `downloads`: download jobs.
* `attributes`: the one helper for records whose fields already carry the model's names.
"""
