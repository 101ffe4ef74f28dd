"""Adapter of the course-skeleton core in rtl/: the worked example a team copies for its own core.

It replays the course's Part 1 testbench sequence (core_tb.v) in Python: activations into xmem, then per
kernel position a reset, weights into xmem, xmem -> L0, load into the PEs, activations xmem -> L0, execute,
OFIFO -> pmem; at the end the SFU accumulates each output's nine psums from pmem and the adapter reports
sfu_out. Golden values, checking and the summary are the environment's.

2-bit layers (the 2a4w network; the core's mode pin = 1, course Part 2): the environment hands the hooks 16
input channels for the 8 rows; row r's 4-bit lane carries channel 2r (bits 1:0) and 2r+1 (bits 3:2), and
each PE keeps two weights, loaded as two kernel words a column (channels 2r, then channels 2r+1).

    accel-byoc --adapter adapter.py --rtl "rtl/*.v" --top core --images 2
    accel-byoc --adapter adapter.py --rtl "rtl/*.v" --top core --checkpoint ../../checkpoints/vgg16_a2w4.pt
"""
from cocotb.triggers import FallingEdge

from accel_tb.adapter import CoreAdapter, Geometry
from accel_tb.helpers import (
    InstructionWord,
    drive,
    pack_lanes,
    pair_lanes,
    pulse_reset,
    start_clock,
    tick,
    unpack_lanes,
)

ROWS, COLS, BW, PSUM_BW = 8, 8, 4, 16
P = 36                  # padded positions of the largest layer it holds (4x4 -> 6 x 6); a layer's own: self.layer
WEIGHTS_AT = 1024       # xmem address of the kernel (activations start at 0)

# inst[33:0] of core.v, LSB first; memory enables are active low, so they idle high
INST = InstructionWord([("load", 1), ("execute", 1), ("l0_wr", 1), ("l0_rd", 1), ("ififo_rd", 1),
                        ("ififo_wr", 1), ("ofifo_rd", 1), ("A_xmem", 11), ("WEN_xmem", 1), ("CEN_xmem", 1),
                        ("A_pmem", 11), ("WEN_pmem", 1), ("CEN_pmem", 1), ("acc", 1)],
                       defaults={"WEN_xmem": 1, "CEN_xmem": 1, "WEN_pmem": 1, "CEN_pmem": 1})


class SkeletonCore(CoreAdapter):
    geometry = Geometry(rows=ROWS, cols=COLS, a_bits=BW, w_bits=BW, psum_bits=PSUM_BW, max_side=4, two_bit=True)
    two_bit = False           # the layer running is 2-bit (set_mode)

    async def step(self, data=0, **fields):
        """One clock cycle: instruction fields (and D_xmem) driven on the falling edge."""
        await tick(self.dut, inst=INST.pack(**fields), D_xmem=data)

    async def start(self):
        self.dut.inst.value = INST.pack()
        self.dut.D_xmem.value = 0
        self.dut.mode.value = 0
        self.dut.os.value = 0                 # weight-stationary (skeleton.toml's --dataflow os runs the other)
        start_clock(self.dut)
        await pulse_reset(self.dut, cycles=3, polarity=1, signal="reset")

    async def set_mode(self, a_bits):
        """mode = 1 for a layer of 2-bit activations, held for the whole layer."""
        self.two_bit = a_bits == BW // 2
        await FallingEdge(self.dut.clk)
        drive(self.dut, mode=int(self.two_bit))

    async def load_activations(self, tile):
        """tile[r][p] -> xmem[p]: one word per padded position, row r at bits [4r+3:4r] (2-bit: tile[ch][p],
        channels 2r and 2r+1 paired in row r's lane, 2r low)."""
        for p in range(self.layer.positions):
            column = [tile[ch][p] for ch in range(len(tile))]
            lanes = pair_lanes(column, BW) if self.two_bit else column
            await self.step(pack_lanes(lanes, BW), CEN_xmem=0, WEN_xmem=0, A_xmem=p)

    async def xmem_to_l0(self, base, n):
        """Read n xmem words from base; each reaches L0 one cycle after its read (registered Q)."""
        for t in range(n + 1):
            await self.step(CEN_xmem=0 if t < n else 1, A_xmem=base + min(t, n - 1), l0_wr=int(t > 0))

    async def run_kernel(self, kij, weights):
        """weights[c][r]: as in the course's weight_itile0_otile0_kij{kij}.txt, line c = column c."""
        await pulse_reset(self.dut, cycles=1, polarity=1, signal="reset")   # the course resets per kernel
        k = 2 if self.two_bit else 1          # weights a PE keeps; 2-bit: channel 2r's, then 2r+1's
        for c in range(COLS):
            for j in range(k):
                await self.step(pack_lanes(weights[c][j::k], BW), CEN_xmem=0, WEN_xmem=0,
                                A_xmem=WEIGHTS_AT + k * c + j)
        await self.xmem_to_l0(WEIGHTS_AT, k * COLS)
        # each row pops its k * 8 weights; load must stay up until the last column (k + 1 cycles per tile)
        # and the last row (7 cycles of skew) have latched theirs
        for t in range((k + 1) * COLS + ROWS + 1):
            await self.step(l0_rd=int(t < k * COLS), load=1)
        await self.step()
        n = self.layer.positions              # the running layer's padded positions (36 for 4x4)
        await self.xmem_to_l0(0, n)
        for _ in range(n):
            await self.step(l0_rd=1, execute=1)
        moved = 0
        while moved < n:                      # OFIFO -> pmem[kij*n + nij] as columns line up
            if int(self.dut.ofifo_valid.value):
                await self.step(ofifo_rd=1, CEN_pmem=0, WEN_pmem=0, A_pmem=kij * n + moved)
                moved += 1
            else:
                await self.step()

    async def outputs(self):
        """Per output position, the SFU accumulates its nine psums read from pmem, then shows ReLU(sum)."""
        results = []
        n = self.layer.positions
        for o_nij in range(self.layer.outputs):
            # the nine psums of o_nij: kernel position k's slot, at the padded position o_nij reads there
            addrs = [k * n + self.layer.padded[o_nij][k] for k in range(9)]
            for t in range(10):               # read at t, accumulate the word read at t-1
                await self.step(CEN_pmem=0 if t < 9 else 1, A_pmem=addrs[min(t, 8)], acc=int(t > 0))
            # the SFU registers the last accumulate at the edge that ends t = 9; a read right after a step() shows
            # the cycle that step drove, before its edge (accel_tb/helpers.py): one idle step, then sfu_out
            await self.step()
            # the value itself, not int() of it: a lane holding X/Z is then reported where it appears
            results.append((o_nij, unpack_lanes(self.dut.sfu_out.value, COLS, PSUM_BW, signed=True)))
        return results
