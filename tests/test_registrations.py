from spacy.util import registry

from spacy_biobert.registrations import entry_point_names, registered_names


def test_decorators_and_entry_points_agree():
    decorated = registered_names()
    declared = entry_point_names()
    assert decorated, "nothing registered"
    assert decorated == declared


def test_every_registered_name_resolves():
    for group, names in registered_names().items():
        reg_name = group[len("spacy_"):]
        for name in names:
            assert registry.has(reg_name, name), (group, name)
            assert callable(registry.get(reg_name, name))


def test_names_are_namespaced_and_versioned():
    for group, names in registered_names().items():
        for name in names:
            if group == "spacy_factories":
                assert name.startswith("biobert_"), name
            else:
                assert name.startswith("spacy-biobert.") and ".v" in name, name
