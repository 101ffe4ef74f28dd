// L0: one FIFO per array row. wr pushes all rows at once; rd pops row r r cycles after row 0 (the systolic
// skew), each row's data appearing one cycle after its pop.
// out is a chain of concatenations, one driver per net (see mac_row.v's note: Icarus's cost of sliced nets).
module l0 #(parameter row = 8, parameter bw = 4) (
    input                  clk,
    input                  reset,
    input                  wr,
    input                  rd,
    input  [bw*row-1:0]    in,
    output [bw*row-1:0]    out
);
    reg [row-1:0] rd_en;
    always @(posedge clk) begin
        if (reset) rd_en <= {row{1'b0}};
        else       rd_en <= {rd_en[row-2:0], rd};
    end
    genvar i;
    generate
        for (i = 0; i < row; i = i + 1) begin : row_num
            wire [bw-1:0]       o;
            wire [bw*(i+1)-1:0] o_chain;        // rows 0..i's outputs
            if (i == 0) begin : g_first
                assign o_chain = o;
            end else begin : g_next
                assign o_chain = {o, row_num[i-1].o_chain};
            end
            fifo_reg #(.bw(bw), .depth(64)) fifo_instance (
                .clk(clk), .reset(reset), .wr(wr), .rd(i == 0 ? rd : rd_en[i-1]),
                .in(in[bw*(i+1)-1:bw*i]), .out(o));
        end
    endgenerate
    assign out = row_num[row-1].o_chain;
endmodule
