// FIFO with a registered read port: out holds the word popped by the last rd (the L0 rows).
module fifo_reg #(parameter bw = 4, parameter depth = 64) (
    input               clk,
    input               reset,
    input               wr,
    input               rd,
    input  [bw-1:0]     in,
    output reg [bw-1:0] out
);
    reg [bw-1:0] mem [0:depth-1];
    reg [5:0]    rptr, wptr;
    always @(posedge clk) begin
        if (reset) begin
            rptr <= 6'd0;
            wptr <= 6'd0;
            out  <= {bw{1'b0}};
        end else begin
            if (wr) begin
                mem[wptr] <= in;
                wptr <= wptr + 6'd1;
            end
            if (rd) begin
                out  <= mem[rptr];
                rptr <= rptr + 6'd1;
            end
        end
    end
endmodule
