// SFU: while acc is high it accumulates the psum memory's read data (the first cycle of a burst starts from
// zero); out shows the sum after ReLU (RELU_EN = 0: the raw sum -- a fault for negative tests).
// out is a chain of concatenations, one driver per net (see mac_row.v's note).
module sfu #(parameter col = 8, parameter psum_bw = 16, parameter RELU_EN = 1) (
    input                      clk,
    input                      reset,
    input                      acc,
    input  [psum_bw*col-1:0]   in,
    output [psum_bw*col-1:0]   out
);
    reg acc_q;
    always @(posedge clk) begin
        if (reset) acc_q <= 1'b0;
        else       acc_q <= acc;
    end
    genvar i;
    generate
        for (i = 0; i < col; i = i + 1) begin : col_num
            reg signed [psum_bw-1:0] psum_q;
            wire signed [psum_bw-1:0] x = in[psum_bw*(i+1)-1:psum_bw*i];
            always @(posedge clk) begin
                if (reset)     psum_q <= {psum_bw{1'b0}};
                else if (acc)  psum_q <= (acc_q ? psum_q : {psum_bw{1'b0}}) + x;
            end
            wire [psum_bw-1:0]       o = (RELU_EN != 0 && psum_q[psum_bw-1]) ? {psum_bw{1'b0}} : psum_q;
            wire [psum_bw*(i+1)-1:0] o_chain;   // columns 0..i's outputs
            if (i == 0) begin : g_first
                assign o_chain = o;
            end else begin : g_next
                assign o_chain = {o, col_num[i-1].o_chain};
            end
        end
    endgenerate
    assign out = col_num[col-1].o_chain;
endmodule
