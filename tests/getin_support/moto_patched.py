"""moto_server with one fix: /moto-api/data.json leaves out deleted IAM users.

moto 5.2.5 keeps deleted IAM users among its tracked instances; their `group_list` property then
raises NoSuchEntity and the whole data.json answers 500. eks-sim reads data.json to authenticate
every request, so a world with a deleted user (the creator-deleted scenarios) would refuse every
call. Here IAM users and roles that are no longer in their backend (deleted, perhaps recreated
under the same name with a new unique id) are left out: keeping them would also let eks-sim
mistake a recreated user for the old one by name.
"""
import json
import sys

from moto.moto_api._internal.responses import MotoAPIResponse


def alive(service, name, instance):
    """False for an IAM user or role that its backend no longer holds."""
    if service != "iam" or name not in ("User", "Role"):
        return True
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    try:
        partition = getattr(instance, "partition", None) or get_partition(instance.region_name)
        backend = iam_backends[instance.account_id][partition]
    except Exception:  # noqa: BLE001
        return True
    if name == "User":
        return backend.users.get(instance.name) is instance
    return backend.roles.get(instance.id) is instance


def model_data(self, request, full_url, headers):
    from moto.core.model_instances import model_data as tracked

    results = {}
    for service in sorted(tracked):
        models = tracked[service]
        results[service] = {}
        for name in sorted(models):
            results[service][name] = []
            for instance in models[name].instances_tracked:
                if not alive(service, name, instance):
                    continue
                inst = {}
                deleted = False
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except (TypeError, AttributeError, ValueError):
                        continue
                    except Exception:  # noqa: BLE001 - a deleted principal's properties raise
                        deleted = True
                        break
                    inst[attr] = value
                if not deleted:
                    results[service][name].append(inst)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


MotoAPIResponse.model_data = model_data

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
