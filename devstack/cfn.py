"""Reads template.yaml the way the local stack needs it: resources, their local names, and the
intrinsic functions (!Ref, !GetAtt, !Sub) resolved to those names. One template, two stacks."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "bulkimport-local"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref": value} if name == "Ref" else {f"Fn::{name}": value}

    return construct


for _name in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Equals",
    "Select",
    "Split",
    "ImportValue",
    "FindInMap",
    "Not",
    "And",
    "Or",
):
    _CfnLoader.add_constructor(f"!{_name}", _tag(_name))


@dataclass
class Function:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory: int
    events: dict[str, dict] = field(default_factory=dict)
    # Where Lambda sends an asynchronous invocation's event once its retries failed (DeadLetterQueue).
    dead_letter_arn: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


class Template:
    def __init__(self, path: Path, parameter_overrides: dict[str, str] | None = None, doc: dict | None = None):
        self.path = path
        self.root = path.parent
        self.doc = doc if doc is not None else yaml.load(path.read_text(), Loader=_CfnLoader)
        self.resources: dict[str, dict] = self.doc["Resources"]
        self.parameters = {k: str(v.get("Default", "")) for k, v in self.doc.get("Parameters", {}).items()}
        unknown = set(parameter_overrides or {}) - set(self.parameters)
        if unknown:
            raise ValueError(f"template has no parameters {sorted(unknown)}")
        self.parameters.update(parameter_overrides or {})

    # ------------------------------------------------------------ names
    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if (
            kind in ("AWS::Serverless::StateMachine", "AWS::Events::EventBus", "AWS::Scheduler::ScheduleGroup")
            and "Name" in props
        ):
            return self.resolve(props["Name"])
        if kind == "AWS::StepFunctions::StateMachine" and "StateMachineName" in props:
            return self.resolve(props["StateMachineName"])
        if kind == "AWS::S3::Bucket":
            return f"{STACK}-{logical_id}".lower()
        return f"{STACK}-{logical_id}"

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = {"AWS::StackName": STACK, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
        if name in pseudo:
            return pseudo[name]
        kind = self.resources[name]["Type"]
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine", "AWS::Events::Rule"):
            return self.attribute(name, "Arn")
        if kind == "AWS::SQS::Queue":  # its URL, as CloudFormation's Ref gives it
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.physical_name(name)}"
        return self.physical_name(name)

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if attribute in ("Name", "QueueName"):
            return name
        if attribute != "Arn":
            raise ValueError(f"attribute {logical_id}.{attribute} is not known to the local stack")
        return {
            "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Scheduler::ScheduleGroup": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
        }[kind]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            return self.attribute(logical_id, attribute)
        if set(value) == {"Fn::Sub"}:
            text, variables = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
            variables = {k: self.resolve(v) for k, v in variables.items()}
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub_name(m.group(1), variables), text)
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_name(self, name: str, variables: dict[str, Any]) -> str:
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return self.attribute(logical_id, attribute)
        return self.ref(name)

    def expanded(self) -> Template:
        """This template as CloudFormation deploys it: through the SAM translator (the library
        aws-sam-cli uses), so policy templates become IAM policy documents, each function gets its
        role and each EventBridgeRule event its rule and Lambda permission. Local code paths stand
        in as S3 locations, as `sam validate` does; intrinsic functions are left for `resolve`."""
        import boto3
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator

        doc = copy.deepcopy(self.doc)
        for resource in doc["Resources"].values():
            props = resource.get("Properties", {})
            for key in ("CodeUri", "ContentUri", "DefinitionUri"):
                if isinstance(props.get(key), str):
                    props[key] = f"s3://local/{props[key]}"
        translated = Translator({}, Parser(), boto_session=boto3.Session(region_name=REGION)).translate(
            doc, parameter_values=dict(self.parameters), get_managed_policy_map=dict
        )
        return Template(self.path, self.parameters, doc=translated)

    # ------------------------------------------------------------ resources by kind
    def of_type(self, kind: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def functions(self) -> dict[str, Function]:
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        found = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            found[logical_id] = Function(
                logical_id=logical_id,
                name=self.physical_name(logical_id),
                code_dir=self.root / props["CodeUri"],
                handler=props["Handler"],
                environment={k: str(self.resolve(v)) for k, v in env.items()},
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
                events=props.get("Events", {}),
                dead_letter_arn=self.resolve(props.get("DeadLetterQueue", {}).get("TargetArn")),
            )
        return found

    def layer_dirs(self) -> list[Path]:
        return [
            self.root / r["Properties"]["ContentUri"] for r in self.of_type("AWS::Serverless::LayerVersion").values()
        ]

    def state_machine(self, logical_id: str) -> tuple[str, str]:
        """(name, definition with its substitutions applied)."""
        props = self.resources[logical_id]["Properties"]
        definition = (self.root / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(self.resolve(value)))
        return self.physical_name(logical_id), definition

    def api(self) -> dict:
        ((_logical_id, resource),) = self.of_type("AWS::Serverless::Api").items()
        return resource["Properties"]
