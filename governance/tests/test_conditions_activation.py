"""One conversion of the variables per decision, shared by its conditions, never stale."""

from types import MappingProxyType

from governance.conditions import Condition, Effect, condition_compile


def test_a_dict_changed_between_two_evaluations_is_read_afresh():
    big = condition_compile(Condition("big", "params.amount > 10", Effect.DENY))
    variables = {"params": {"amount": 5}}
    assert big.evaluate(variables) is False
    variables["params"] = {"amount": 50}
    assert big.evaluate(variables) is True


def test_the_engines_immutable_variables_are_shared_by_every_condition_of_a_decision():
    big = condition_compile(Condition("big", "params.amount > 10", Effect.DENY))
    odd = condition_compile(Condition("odd", "params.amount % 2 == 1", Effect.DENY))
    first = MappingProxyType({"params": {"amount": 51}})
    assert (big.evaluate(first), odd.evaluate(first)) == (True, True)
    second = MappingProxyType({"params": {"amount": 4}})
    assert (big.evaluate(second), odd.evaluate(second)) == (False, False)
    assert big.evaluate(first) is True  # an older decision's variables: converted again
