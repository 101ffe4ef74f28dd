// L0: the systolic input skew. Lane i of the input word leaves i cycles later than lane 0, so that row i
// of the array sees a token exactly when the psum of row i-1 for the same token arrives from the north.
// Reset clears the stages: a token caught in the skew by a reset must not reach the array afterwards
// (found by the mid-layer reset test: its valid bit produced psums no tag belonged to).
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
    genvar i, s;
    generate
        for (i = 1; i < LANES; i = i + 1) begin : g_lane
            for (s = 0; s < i; s = s + 1) begin : g_stage
                reg [W-1:0] q;
                if (s == 0) begin : g_first
                    always @(posedge clk) q <= rst ? {W{1'b0}} : in[i*W +: W];
                end else begin : g_next
                    always @(posedge clk) q <= rst ? {W{1'b0}} : g_lane[i].g_stage[s-1].q;
                end
            end
            assign out[i*W +: W] = g_stage[i-1].q;
        end
    endgenerate
endmodule
