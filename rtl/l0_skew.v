// L0: the systolic input skew. Lane i of the input word leaves i cycles later than lane 0, so that row i
// of the array sees a token exactly when the psum of row i-1 for the same token arrives from the north.
// Reset clears the stages: a token caught in the skew by a reset must not reach the array afterwards
// (found by the mid-layer reset test: its valid bit produced psums no tag belonged to).
// A lane's stages are one shift register (one process a lane, not one a stage: a 64-row array's skew was 2,016
// processes Icarus woke every cycle; the same flip-flops after synthesis).
module l0_skew #(
    parameter integer LANES = 8,
    parameter integer W     = 8
) (
    /* verilator lint_off UNUSEDSIGNAL */     // a 1-row array has no skew stage to clock or reset
    input  wire               clk,
    input  wire               rst,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [LANES*W-1:0] in,
    output wire [LANES*W-1:0] out
);
    assign out[0 +: W] = in[0 +: W];
    genvar i;
    generate
        for (i = 1; i < LANES; i = i + 1) begin : g_lane
            reg [i*W-1:0] q;     // lane i's i stages, the newest in the low W bits
            if (i == 1) begin : g_one
                always @(posedge clk) q <= rst ? {W{1'b0}} : in[i*W +: W];
            end else begin : g_more
                always @(posedge clk) q <= rst ? {(i*W){1'b0}} : {q[(i-1)*W-1:0], in[i*W +: W]};
            end
            assign out[i*W +: W] = q[i*W-1 -: W];
        end
    endgenerate
endmodule
