"""Adapter of the course-skeleton core in rtl/: the worked example a team copies for its own core.

It replays the course's Part 1 testbench sequence (core_tb.v) in Python: activations into xmem, then per
kernel position a reset, weights into xmem, xmem -> L0, load into the PEs, activations xmem -> L0, execute,
OFIFO -> pmem; at the end the SFU accumulates each output's nine psums from pmem and the adapter reports
sfu_out. Golden values, checking and the summary are the environment's.

    accel-byoc --adapter adapter.py --rtl "rtl/*.v" --top core --images 2
"""
from accel_tb.adapter import CoreAdapter, Geometry
from accel_tb.helpers import InstructionWord, pack_lanes, pulse_reset, start_clock, tick, unpack_lanes

ROWS, COLS, BW, PSUM_BW = 8, 8, 4, 16
P = 36                  # padded positions of a 4x4 input (6 x 6)
WEIGHTS_AT = 1024       # xmem address of the kernel (activations start at 0)

# inst[33:0] of core.v, LSB first; memory enables are active low, so they idle high
INST = InstructionWord([("load", 1), ("execute", 1), ("l0_wr", 1), ("l0_rd", 1), ("ififo_rd", 1),
                        ("ififo_wr", 1), ("ofifo_rd", 1), ("A_xmem", 11), ("WEN_xmem", 1), ("CEN_xmem", 1),
                        ("A_pmem", 11), ("WEN_pmem", 1), ("CEN_pmem", 1), ("acc", 1)],
                       defaults={"WEN_xmem": 1, "CEN_xmem": 1, "WEN_pmem": 1, "CEN_pmem": 1})


class SkeletonCore(CoreAdapter):
    geometry = Geometry(rows=ROWS, cols=COLS, a_bits=BW, w_bits=BW, psum_bits=PSUM_BW, max_side=4)

    async def step(self, data=0, **fields):
        """One clock cycle: instruction fields (and D_xmem) driven on the falling edge."""
        await tick(self.dut, inst=INST.pack(**fields), D_xmem=data)

    async def start(self):
        self.dut.inst.value = INST.pack()
        self.dut.D_xmem.value = 0
        start_clock(self.dut)
        await pulse_reset(self.dut, cycles=3, polarity=1, signal="reset")

    async def load_activations(self, tile):
        """tile[r][p] -> xmem[p]: one word per padded position, row r at bits [4r+3:4r]."""
        for p in range(P):
            await self.step(pack_lanes([tile[r][p] for r in range(ROWS)], BW), CEN_xmem=0, WEN_xmem=0, A_xmem=p)

    async def xmem_to_l0(self, base, n):
        """Read n xmem words from base; each reaches L0 one cycle after its read (registered Q)."""
        for t in range(n + 1):
            await self.step(CEN_xmem=0 if t < n else 1, A_xmem=base + min(t, n - 1), l0_wr=int(t > 0))

    async def run_kernel(self, kij, weights):
        """weights[c][r]: as in the course's weight_itile0_otile0_kij{kij}.txt, line c = column c."""
        await pulse_reset(self.dut, cycles=1, polarity=1, signal="reset")   # the course resets per kernel
        for c in range(COLS):
            await self.step(pack_lanes(weights[c], BW), CEN_xmem=0, WEN_xmem=0, A_xmem=WEIGHTS_AT + c)
        await self.xmem_to_l0(WEIGHTS_AT, COLS)
        # each row pops its 8 weights; load must stay up until the last column (2 cycles per tile) and
        # the last row (7 cycles of skew) have latched theirs
        for t in range(2 * COLS + ROWS + 1):
            await self.step(l0_rd=int(t < COLS), load=1)
        await self.step()
        await self.xmem_to_l0(0, P)
        for _ in range(P):
            await self.step(l0_rd=1, execute=1)
        moved = 0
        while moved < P:                      # OFIFO -> pmem[kij*36 + nij] as columns line up
            if int(self.dut.ofifo_valid.value):
                await self.step(ofifo_rd=1, CEN_pmem=0, WEN_pmem=0, A_pmem=kij * P + moved)
                moved += 1
            else:
                await self.step()

    async def outputs(self):
        """Per output position, the SFU accumulates its nine psums read from pmem, then shows ReLU(sum)."""
        results = []
        for o_nij in range(16):
            y, x = divmod(o_nij, 4)
            addrs = [k * P + (y + k // 3) * 6 + x + k % 3 for k in range(9)]
            for t in range(10):               # read at t, accumulate the word read at t-1
                await self.step(CEN_pmem=0 if t < 9 else 1, A_pmem=addrs[min(t, 8)], acc=int(t > 0))
            await self.step()
            # the value itself, not int() of it: a lane holding X/Z is then reported where it appears
            results.append((o_nij, unpack_lanes(self.dut.sfu_out.value, COLS, PSUM_BW, signed=True)))
        return results
