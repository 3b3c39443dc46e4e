"""The BSP strategy's options (its form on the page; engine/strategies/bsp.py): the
algorithm, the generated graph and its size, how its vertices are split over the workers,
PageRank's damping, and Pregel's combiner."""

from __future__ import annotations

from dataclasses import dataclass

from engine.bsp_graph import ALGORITHMS, GRAPHS, PARTITIONS
from engine.options import choice, flag, integer, number


@dataclass(frozen=True, kw_only=True)
class BSPOptions:
    algorithm: str = choice(
        "pagerank", ALGORITHMS, label={"en": "Algorithm", "zh": "算法"},
        help={"en": "PageRank: each vertex passes its rank on along its out-links. "
                    "Connected components: each vertex takes the smallest label of its "
                    "neighbours (edges both ways).",
              "zh": "PageRank：每个顶点沿出边传出自己的排名值。连通分量：每个顶点取邻居中最小的"
                    "标签（边视为双向）。"},
        labels={"pagerank": {"en": "PageRank", "zh": "PageRank"},
                "connected_components": {"en": "Connected components", "zh": "连通分量"}})
    vertices: int = integer(
        400, 50, 20000, label={"en": "Vertices", "zh": "顶点数"},
        help={"en": "The generated graph's size; every worker builds the same graph from "
                    "the run's seed.",
              "zh": "生成图的大小；每个工作进程都用运行的随机种子生成同一张图。"})
    graph: str = choice(
        "power_law", GRAPHS, label={"en": "Graph", "zh": "图"},
        help={"en": "Power law: preferential attachment, each new vertex links to 2 older "
                    "ones picked by degree (a few hubs). Random: Erdős–Rényi, edges drawn "
                    "uniformly.",
              "zh": "幂律：优先连接，每个新顶点按度数挑选 2 个旧顶点相连（少数枢纽）。随机："
                    "Erdős–Rényi，边均匀随机抽取。"},
        labels={"power_law": {"en": "Power law (preferential attachment)",
                              "zh": "幂律（优先连接）"},
                "random": {"en": "Random (Erdős–Rényi)", "zh": "随机（Erdős–Rényi）"}})
    degree: float = number(
        4.0, 0.2, 8.0, label={"en": "Edges per vertex", "zh": "每个顶点的边数"},
        help={"en": "The random graph has this many directed edges per vertex (below about "
                    "1 it falls apart into many components).",
              "zh": "随机图中每个顶点平均的有向边数（低于约 1 时图会分裂成许多连通分量）。"},
        shown_when={"graph": ("random",)})
    partition: str = choice(
        "hash", PARTITIONS, label={"en": "Partition", "zh": "划分"},
        help={"en": "Which worker holds vertex v: hash, v mod W; range, contiguous blocks "
                    "of ⌈N/W⌉ vertices.",
              "zh": "顶点 v 归哪个工作进程：哈希，v mod W；范围，连续的 ⌈N/W⌉ 个顶点一块。"},
        labels={"hash": {"en": "Hash (v mod W)", "zh": "哈希（v mod W）"},
                "range": {"en": "Range (contiguous blocks)", "zh": "范围（连续分块）"}})
    damping: float = number(
        0.85, 0.0, 0.99, label={"en": "Damping d", "zh": "阻尼系数 d"},
        help={"en": "PageRank: the surfer follows a link with probability d, else jumps "
                    "to any vertex.",
              "zh": "PageRank：随机游走者以概率 d 沿链接前进，否则跳到任意顶点。"},
        shown_when={"algorithm": ("pagerank",)})
    combiner: bool = flag(
        False, label={"en": "Combiner", "zh": "Combiner（合并器）"},
        help={"en": "Fold the messages to one destination vertex into one before sending "
                    "(a sum, or a minimum): fewer messages, the same result.",
              "zh": "发送前把发往同一目标顶点的消息合并成一条（求和或取最小值）：消息更少，"
                    "结果不变。"})
