// OFIFO: one FIFO per column, written when that column's psum is fresh; o_valid once every column holds
// one; rd pops the aligned vector (first-word-fall-through: out is the head).
module ofifo #(parameter col = 8, parameter psum_bw = 16) (
    input                     clk,
    input                     reset,
    input  [col-1:0]          wr,
    input                     rd,
    input  [psum_bw*col-1:0]  in,
    output [psum_bw*col-1:0]  out,
    output                    o_valid
);
    wire [col-1:0] empty;
    assign o_valid = ~|empty;
    genvar i;
    generate
        for (i = 0; i < col; i = i + 1) begin : col_num
            reg [psum_bw-1:0] mem [0:63];
            reg [6:0]         rptr, wptr;
            assign empty[i] = (rptr == wptr);
            assign out[psum_bw*(i+1)-1:psum_bw*i] = mem[rptr[5:0]];
            always @(posedge clk) begin
                if (reset) begin
                    rptr <= 7'd0;
                    wptr <= 7'd0;
                end else begin
                    if (wr[i]) begin
                        mem[wptr[5:0]] <= in[psum_bw*(i+1)-1:psum_bw*i];
                        wptr <= wptr + 7'd1;
                    end
                    if (rd && o_valid) rptr <= rptr + 7'd1;
                end
            end
        end
    endgenerate
endmodule
