#!/usr/bin/env python3
"""Prints the wgmma wrappers of matmul_wgmma.cu (one per N: 64, 128, 256).

Inline PTX needs every accumulator register spelled out (N/2 of them), so
these are generated; paste the output between the GENERATED markers in
matmul_wgmma.cu after a change.
"""


def wrapper(n):
    regs = n // 2
    outs = ", ".join(f"%{i}" for i in range(regs))
    lines = [
        f"/* d += A (64 x 16, smem descriptor da) * B (16 x {n}, descriptor db),",
        " * both K-major, fp16 in, fp32 accumulators; asynchronous (see",
        " * wgmma_commit / wgmma_wait). */",
        f"__device__ __forceinline__ void wgmma_n{n}(float (&d)[{regs}],",
        "                                         unsigned long long da,",
        "                                         unsigned long long db) {",
        "  asm volatile(",
        '      "{ .reg .pred p;"',
        f'      " setp.ne.b32 p, %{regs + 2}, 0;"',
        f'      " wgmma.mma_async.sync.aligned.m64n{n}k16.f32.f16.f16 "',
    ]
    # The register list, 8 per line.
    chunks = [outs.split(", ")[i:i + 8] for i in range(0, regs, 8)]
    for k, ch in enumerate(chunks):
        head = '"{' if k == 0 else '" '
        tail = ',"' if k < len(chunks) - 1 else '},"'
        lines.append("      " + head + ", ".join(ch) + tail)
    lines.append(f'      " %{regs}, %{regs + 1}, p, 1, 1, 0, 0; }}"')
    ops = [f'"+f"(d[{i}])' for i in range(regs)]
    rows = [", ".join(ops[i:i + 6]) for i in range(0, regs, 6)]
    lines.append("      : " + ",\n        ".join(rows))
    lines.append('      : "l"(da), "l"(db), "r"(1));')
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(wrapper(n) for n in (64, 128, 256)))
