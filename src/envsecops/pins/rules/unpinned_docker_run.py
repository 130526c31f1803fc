"""`unpinned-docker-run`: `docker pull`/`run`/`create` in a `run:` script, image without digest.

Covers `docker`, `podman` and `nerdctl`, `docker container run|create` and `docker image
pull`. Options of `run`/`create` follow docker's CLI: `--opt=value` is self-contained, a
known set of flags takes no value (`-d`, `-i`, `-t`, `-it`, `--rm`, `--privileged`,
`--init`, `-P`, `--read-only`, …) and every other option takes the next word, so the first
word left is the image. Not reported: an image built or tagged earlier in the same file
(`docker build -t NAME`, `docker tag SRC NAME`, a `docker/build-push-action` step's
`tags:`; its `FROM` lines are checked in the Dockerfile) when it is run or created, not
pulled; and `--pull never`. An image given by `${{ }}` or `$VAR` is reported as
unverifiable, with low confidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document, YamlDocument
from envsecops.pins.refs import ImageClass, classify_image, image_tag
from envsecops.pins.rules.base import Emitter, Rule
from envsecops.pins.rules.docker_uses import DIGEST_HOWTO, describe_image, image_name
from envsecops.pins.rules.scripts import (
    ScriptCheck,
    document_commands,
    option_set,
    parse_options,
    subcommand,
)
from envsecops.pins.shell import Command
from envsecops.pins.shell_locate import LocatedCommand
from envsecops.syntax.yaml import MappingNode, Node, SequenceNode, get, scalar

UNPINNED_DOCKER_RUN = Rule(
    id="unpinned-docker-run",
    title="docker run/pull of an image without digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`docker run image:tag` in a step runs whatever the registry serves for that tag "
    "today, with the job's workspace and often its secrets mounted. Only "
    "`image@sha256:<digest>` names immutable content.",
)

TOOLS = frozenset({"docker", "podman", "nerdctl"})
_GLOBAL_VALUE = option_set(
    "-H --host -c --context --config -l --log-level --tlscacert --tlscert --tlskey --url "
    "--connection --namespace -n --address -a --root --runroot"
)
_BOOLEAN = option_set(
    "-d --detach -i --interactive -t --tty -it -ti --rm --privileged --init -P --publish-all "
    "--read-only --no-healthcheck --oom-kill-disable --sig-proxy -q --quiet "
    "--disable-content-trust --help --use-api-socket -a --all-tags --replace --no-hosts "
    "--rmi --tls-verify --http-proxy --env-host --read-only-tmpfs --rootfs"
)
_BOOLEAN_LETTERS = frozenset("ditPq")
_PULL_VALUE = option_set("--platform --arch --os --variant --creds --authfile --cert-dir")
_BUILD_VALUE_TAG = option_set("-t --tag")
BUILD_ACTIONS = ("docker/build-push-action@", "docker/build-push-action/")


def _takes_value(option: str) -> bool:
    if option in _BOOLEAN:
        return False
    return option.startswith("--") or not set(option[1:]) <= _BOOLEAN_LETTERS


def _verb(command: Command) -> tuple[str | None, tuple[str, ...]]:
    """The docker subcommand (`container run` is `run`) and its arguments."""
    verb, rest = subcommand(command.args, _GLOBAL_VALUE)
    if verb in ("container", "image", "buildx", "builder"):
        verb, rest = subcommand(rest, frozenset())
    return verb, rest


def _normalise(image: str) -> str:
    """`name` and `name:latest` are the same local image."""
    return image if image_tag(image) or "@" in image else f"{image}:latest"


def built_images(commands: Sequence[LocatedCommand]) -> set[str]:
    """Images built or tagged by these commands (as written, `${{ }}` kept), normalised."""
    names: set[str] = set()
    for located in commands:
        command = located.command
        if command.tool not in TOOLS:
            continue
        verb, rest = _verb(command)
        if verb == "build":
            options = parse_options(rest, _BUILD_VALUE_TAG.__contains__, attached=frozenset({"-t"}))
            names.update(options.values("-t", "--tag"))
        elif verb == "tag" and len(rest) >= 2:
            names.add(rest[-1])
    return {_normalise(name) for name in names}


def action_tags(document: Document) -> set[str]:
    """Tags of images that `docker/build-push-action` steps build in this file, normalised."""
    names: set[str] = set()
    roots = document.roots if isinstance(document, YamlDocument) else []
    stack: list[Node] = list(roots)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            uses = scalar(get(node, "uses")) or ""
            if uses.strip().startswith(BUILD_ACTIONS):
                tags = scalar(get(get(node, "with"), "tags")) or ""
                names.update(t.strip() for t in re.split(r"[\n,]", tags) if t.strip())
            stack.extend(value for _key, value in node.value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return {_normalise(name) for name in names}


def _describe(image: str, klass: ImageClass) -> str:
    """Why the image is mutable; a shell variable, unlike a `uses:` value, is expanded."""
    if klass is ImageClass.VARIABLE:
        return "a shell variable, which pin-check cannot resolve (variable)"
    return describe_image(image, klass)


class UnpinnedDockerRun(ScriptCheck):
    """Report images run or pulled by tag in scripts."""

    rules = (UNPINNED_DOCKER_RUN,)

    def run(self, document: Document, emitter: Emitter) -> None:
        """Check the scripts, knowing which images this file builds itself."""
        commands = document_commands(document)
        if commands:
            self._check(commands, emitter, lambda: built_images(commands) | action_tags(document))

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per `docker run`/`create`/`pull` of an image without digest."""
        self._check(commands, emitter, lambda: built_images(commands))

    def _check(
        self,
        commands: Sequence[LocatedCommand],
        emitter: Emitter,
        local_images: Callable[[], set[str]],
    ) -> None:
        built: set[str] | None = None
        for located in commands:
            command = located.command
            if command.tool not in TOOLS:
                continue
            verb, rest = _verb(command)
            if verb not in ("run", "create", "pull"):
                continue
            takes = _takes_value if verb != "pull" else _PULL_VALUE.__contains__
            options = parse_options(rest, takes, stop_at_positional=True)
            if (
                not options.positionals
                or "never" in options.values("--pull")
                or options.has("--rootfs")  # podman: the argument is a directory, not an image
            ):
                continue
            image = options.positionals[0]
            klass = classify_image(image)
            if klass is ImageClass.DIGEST:
                continue
            if built is None:
                built = local_images()
            if verb != "pull" and _normalise(image) in built:
                continue
            self._emit(emitter, located, verb, image, klass)

    def _emit(
        self,
        emitter: Emitter,
        located: LocatedCommand,
        verb: str,
        image: str,
        klass: ImageClass,
    ) -> None:
        unverifiable = klass in (ImageClass.EXPRESSION, ImageClass.VARIABLE)
        tool = located.command.tool
        if unverifiable:
            fix = f"name a literal `image@sha256:<digest>` in `{tool} {verb}`; {DIGEST_HOWTO}"
        else:
            fix = f"`{tool} {verb} {image_name(image)}@sha256:<digest>` (keep the tag in a "
            fix += f"comment); {DIGEST_HOWTO}"
        self.report(
            emitter,
            UNPINNED_DOCKER_RUN,
            located,
            f"`{tool} {verb}` {'pulls' if verb == 'pull' else 'runs'} the image `{image}` with "
            + _describe(image, klass),
            fix,
            confidence=Confidence.LOW if unverifiable else Confidence.HIGH,
        )
